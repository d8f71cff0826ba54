/** The file types llama.cpp's `llama_model_quantize` accepts, named as `llama-quantize` names them. */

export interface FileType {
  /** `llama_ftype` value passed to the quantizer. */
  ftype: number;
  description: string;
  /** Very low-bit types that llama.cpp refuses to make without an importance matrix. */
  needsImatrix?: boolean;
}

export const FILE_TYPES: Readonly<Record<string, FileType>> = {
  Q1_0: { ftype: 40, description: "1.125 bpw" },
  Q2_0: { ftype: 41, description: "2.25 bpw (group 64)" },
  Q4_0: { ftype: 2, description: "4.5 bpw, legacy 32-weight blocks" },
  Q4_1: { ftype: 3, description: "5.0 bpw, legacy with offset" },
  MXFP4_MOE: { ftype: 38, description: "MXFP4 for mixture-of-experts tensors" },
  Q5_0: { ftype: 8, description: "5.5 bpw, legacy" },
  Q5_1: { ftype: 9, description: "6.0 bpw, legacy with offset" },
  IQ2_XXS: { ftype: 19, description: "2.06 bpw", needsImatrix: true },
  IQ2_XS: { ftype: 20, description: "2.31 bpw", needsImatrix: true },
  IQ2_S: { ftype: 28, description: "2.5 bpw", needsImatrix: true },
  IQ2_M: { ftype: 29, description: "2.7 bpw", needsImatrix: true },
  IQ1_S: { ftype: 24, description: "1.56 bpw", needsImatrix: true },
  IQ1_M: { ftype: 31, description: "1.75 bpw", needsImatrix: true },
  TQ1_0: { ftype: 36, description: "1.69 bpw ternary" },
  TQ2_0: { ftype: 37, description: "2.06 bpw ternary" },
  Q2_K: { ftype: 10, description: "2.96 bpw k-quant mix" },
  Q2_K_S: { ftype: 21, description: "2.96 bpw k-quant, small", needsImatrix: true },
  IQ3_XXS: { ftype: 23, description: "3.06 bpw", needsImatrix: true },
  IQ3_S: { ftype: 26, description: "3.44 bpw" },
  IQ3_M: { ftype: 27, description: "3.66 bpw mix" },
  Q3_K: { ftype: 12, description: "alias for Q3_K_M" },
  IQ3_XS: { ftype: 22, description: "3.3 bpw", needsImatrix: true },
  Q3_K_S: { ftype: 11, description: "k-quant, small" },
  Q3_K_M: { ftype: 12, description: "k-quant, medium" },
  Q3_K_L: { ftype: 13, description: "k-quant, large" },
  IQ4_NL: { ftype: 25, description: "4.5 bpw non-linear" },
  IQ4_XS: { ftype: 30, description: "4.25 bpw non-linear" },
  Q4_K: { ftype: 15, description: "alias for Q4_K_M" },
  Q4_K_S: { ftype: 14, description: "k-quant, small" },
  Q4_K_M: { ftype: 15, description: "k-quant, medium" },
  Q5_K: { ftype: 17, description: "alias for Q5_K_M" },
  Q5_K_S: { ftype: 16, description: "k-quant, small" },
  Q5_K_M: { ftype: 17, description: "k-quant, medium" },
  Q6_K: { ftype: 18, description: "6.56 bpw k-quant" },
  Q8_0: { ftype: 7, description: "8.5 bpw" },
  F16: { ftype: 1, description: "16-bit float" },
  BF16: { ftype: 32, description: "16-bit bfloat" },
  F32: { ftype: 0, description: "32-bit float" },
};

export function fileType(name: string): FileType & { name: string } {
  const key = name.toUpperCase();
  const found = FILE_TYPES[key];
  if (!found) throw new UnknownFileTypeError(name);
  return { name: key, ...found };
}

export class UnknownFileTypeError extends Error {
  constructor(readonly requested: string) {
    super(`unknown quantization type "${requested}"; known types: ${Object.keys(FILE_TYPES).join(", ")}`);
    this.name = "UnknownFileTypeError";
  }
}

/** The name of a GGUF's `general.file_type`, e.g. 15 -> "Q4_K_M" (of aliases such as Q4_K, the full name). */
export function fileTypeName(ftype: number): string | undefined {
  return Object.entries(FILE_TYPES)
    .filter(([, t]) => t.ftype === ftype)
    .map(([name]) => name)
    .sort((a, b) => b.length - a.length)[0];
}
