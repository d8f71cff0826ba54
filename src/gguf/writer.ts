/** Streams a GGUF v3 file: metadata, tensor infos, then each tensor's data produced on demand. */
import { open, rename, rm } from "node:fs/promises";
import {
  GGML_TYPE_BYTES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
} from "./format.js";
import { toBFloat16, toHalf } from "./halfFloat.js";

type Scalar = { type: Exclude<GgufValueType, GgufValueType.ARRAY>; value: number | bigint | boolean | string };
type ArrayValue = { type: GgufValueType.ARRAY; itemType: Exclude<GgufValueType, GgufValueType.ARRAY>; value: readonly (number | bigint | boolean | string)[] };
export type GgufMetadata = Record<string, Scalar | ArrayValue>;

/** Constructors for typed metadata values, so call sites read as `meta.u32(512)`. */
export const meta = {
  u32: (value: number): Scalar => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): Scalar => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): Scalar => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): Scalar => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): Scalar => ({ type: GgufValueType.STRING, value }),
  strings: (value: readonly string[]): ArrayValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  f32s: (value: readonly number[]): ArrayValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value }),
  i32s: (value: readonly number[]): ArrayValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value }),
};

export interface GgufTensor {
  name: string;
  /** ggml order: shape[0] is the row length (the fastest-varying dimension). */
  shape: readonly number[];
  type: GgmlType;
  /** Row-major values, shape[0] fastest; called once, when the tensor is written. */
  values: () => Float32Array;
}

export interface GgufFile {
  metadata: GgufMetadata;
  tensors: readonly GgufTensor[];
  alignment?: number;
}

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }
  scalar(type: Scalar["type"], v: Scalar["value"]): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GgufValueType.UINT8: b.writeUInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GgufValueType.INT8: b.writeInt8(Number(v)); return this.push(b.subarray(0, 1));
      case GgufValueType.UINT16: b.writeUInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GgufValueType.INT16: b.writeInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case GgufValueType.UINT32: b.writeUInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.INT32: b.writeInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.FLOAT32: b.writeFloatLE(Number(v)); return this.push(b.subarray(0, 4));
      case GgufValueType.BOOL: b.writeUInt8(v ? 1 : 0); return this.push(b.subarray(0, 1));
      case GgufValueType.STRING: return this.string(String(v));
      case GgufValueType.UINT64: b.writeBigUInt64LE(BigInt(v)); return this.push(b);
      case GgufValueType.INT64: b.writeBigInt64LE(BigInt(v)); return this.push(b);
      case GgufValueType.FLOAT64: b.writeDoubleLE(Number(v)); return this.push(b);
    }
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

const padTo = (n: number, alignment: number) => (alignment - (n % alignment)) % alignment;

function tensorBytes(t: GgufTensor): number {
  return t.shape.reduce((a, b) => a * b, 1) * GGML_TYPE_BYTES[t.type];
}

function encodeTensor(t: GgufTensor): Buffer {
  const values = t.values();
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`tensor ${t.name}: ${values.length} values for shape [${t.shape.join(", ")}]`);
  if (t.type === GgmlType.F32) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(count);
  const convert = t.type === GgmlType.F16 ? toHalf : toBFloat16;
  for (let i = 0; i < count; i++) out[i] = convert(values[i]!);
  return Buffer.from(out.buffer);
}

/** Writes the file through a temporary name and renames it at the end, so a failure leaves no partial file. */
export async function writeGguf(path: string, file: GgufFile): Promise<void> {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const header = new ByteSink();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(file.tensors.length);
  const metadata = { ...file.metadata };
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) metadata["general.alignment"] = meta.u32(alignment);
  header.u64(Object.keys(metadata).length);
  for (const [key, entry] of Object.entries(metadata)) {
    header.string(key);
    header.u32(entry.type);
    if (entry.type === GgufValueType.ARRAY) {
      header.u32(entry.itemType);
      header.u64(entry.value.length);
      for (const item of entry.value) header.scalar(entry.itemType, item);
    } else {
      header.scalar(entry.type, entry.value);
    }
  }
  let offset = 0;
  for (const t of file.tensors) {
    header.string(t.name);
    header.u32(t.shape.length);
    for (const d of t.shape) header.u64(d);
    header.u32(t.type);
    header.u64(offset);
    offset += tensorBytes(t);
    offset += padTo(offset, alignment);
  }
  header.push(Buffer.alloc(padTo(header.length, alignment)));

  const tmp = `${path}.partial-${process.pid}`;
  const handle = await open(tmp, "w");
  try {
    await handle.write(header.toBuffer());
    for (const t of file.tensors) {
      const data = encodeTensor(t);
      await handle.write(data);
      const pad = padTo(data.length, alignment);
      if (pad) await handle.write(Buffer.alloc(pad));
    }
    await handle.close();
    await rename(tmp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
}
