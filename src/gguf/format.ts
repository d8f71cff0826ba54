/** Constants of the GGUF v3 container and the ggml tensor types this project writes. */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Value types of GGUF metadata, as numbered by the format. */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** The unquantized ggml tensor types a writer produces; quantized ones come from llama.cpp's quantizer. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  BF16 = 30,
}

export const GGML_TYPE_BYTES: Record<GgmlType, number> = {
  [GgmlType.F32]: 4,
  [GgmlType.F16]: 2,
  [GgmlType.BF16]: 2,
};

/** llama.cpp's `llama_ftype` values for files a writer produces (`general.file_type`). */
export enum LlamaFileType {
  ALL_F32 = 0,
  MOSTLY_F16 = 1,
  MOSTLY_BF16 = 32,
}

/** llama.cpp's `llama_token_type` values (`tokenizer.ggml.token_type`). */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}
