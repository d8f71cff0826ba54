/** Random-weight llama models of any size, for tests and scaling benchmarks: real files, meaningless text. */
import { GgmlType } from "./format.js";
import { llamaGguf, type LlamaHyperparams, type LlamaModelSpec } from "./llamaModel.js";
import type { Vocabulary } from "./vocabulary.js";
import { writeGguf } from "./writer.js";

/** mulberry32: a tiny seeded generator, so the same seed writes the same file. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticLlamaOptions {
  hyperparams: LlamaHyperparams;
  vocabulary: Vocabulary;
  seed?: number;
  matrixType?: GgmlType.F32 | GgmlType.F16 | GgmlType.BF16;
  name?: string;
  /** Written over the llama keys (e.g. another general.architecture, for files llama.cpp must refuse). */
  extraMetadata?: LlamaModelSpec["extraMetadata"];
}

export async function writeSyntheticLlama(path: string, options: SyntheticLlamaOptions): Promise<void> {
  const next = uniform(options.seed ?? 1);
  const std = 0.02;
  await writeGguf(
    path,
    llamaGguf({
      name: options.name ?? "edged-synthetic",
      hyperparams: options.hyperparams,
      vocabulary: options.vocabulary,
      matrixType: options.matrixType ?? GgmlType.F16,
      extraMetadata: options.extraMetadata,
      weights: (_name, shape) => {
        const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
        if (shape.length === 1) return values.fill(1); // norm weights
        for (let i = 0; i < values.length; i += 2) {
          // Box-Muller: two normal samples from two uniforms
          const r = Math.sqrt(-2 * Math.log(1 - next())) * std;
          const theta = 2 * Math.PI * next();
          values[i] = r * Math.cos(theta);
          if (i + 1 < values.length) values[i + 1] = r * Math.sin(theta);
        }
        return values;
      },
    }),
  );
}
