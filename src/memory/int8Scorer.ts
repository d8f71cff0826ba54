/**
 * Dot products of every stored int8 vector with a query, on onnxruntime's int8 GEMV (MatMulInteger), several
 * times faster than a scalar JavaScript loop. The graph is models/kernels/int8-dot.onnx.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";

const KERNEL = resolve(dirname(fileURLToPath(import.meta.url)), "../../../models/kernels/int8-dot.onnx");

let session: Promise<ort.InferenceSession> | undefined;

export async function int8Scores(vectors: Int8Array, rows: number, dimensions: number, query: Int8Array): Promise<Int32Array> {
  session ??= ort.InferenceSession.create(KERNEL, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await (await session).run({
    vectors: new ort.Tensor("int8", vectors.subarray(0, rows * dimensions), [rows, dimensions]),
    query: new ort.Tensor("int8", query, [dimensions, 1]),
  });
  return out["scores"]!.data as Int32Array;
}
