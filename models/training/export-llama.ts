/**
 * Turns the trainer's float32 weights into a GGUF file with edged's own writer.
 * Usage: node dist/models/training/export-llama.js CHECKPOINT_DIR OUT.gguf [--name NAME]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { GgmlType } from "../../src/gguf/format.js";
import { LlamaHyperparams, llamaGguf } from "../../src/gguf/llamaModel.js";
import { readVocabulary } from "../../src/gguf/vocabulary.js";
import { writeGguf } from "../../src/gguf/writer.js";

const WeightIndex = z.object({
  hyperparams: LlamaHyperparams,
  tensors: z.record(z.string(), z.object({ offset: z.number().int().nonnegative(), count: z.number().int().positive() })),
});

const { positionals, values } = parseArgs({ allowPositionals: true, options: { name: { type: "string", default: "edged-kjv" } } });
const [dir, out] = positionals;
if (!dir || !out) throw new Error("usage: export-llama CHECKPOINT_DIR OUT.gguf [--name NAME]");

const index = WeightIndex.parse(JSON.parse(await readFile(join(dir, "weights.json"), "utf8")));
const blob = await readFile(join(dir, "weights.bin"));
const vocabulary = await readVocabulary(join(dir, "vocabulary.json"));

await writeGguf(
  out,
  llamaGguf({
    name: values.name,
    hyperparams: index.hyperparams,
    vocabulary,
    matrixType: GgmlType.F16,
    weights: (name, shape) => {
      const entry = index.tensors[name];
      const count = shape.reduce((a, b) => a * b, 1);
      if (!entry || entry.count !== count) throw new Error(`checkpoint has no tensor ${name} of ${count} values`);
      return new Float32Array(blob.buffer.slice(blob.byteOffset + entry.offset, blob.byteOffset + entry.offset + count * 4));
    },
  }),
);
console.log(`wrote ${out}`);
