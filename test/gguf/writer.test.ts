import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { test } from "node:test";
import { readGgufFileInfo } from "node-llama-cpp";
import { GgmlType } from "../../src/gguf/format.js";
import { llamaTensorShapes } from "../../src/gguf/llamaModel.js";
import { testLlama } from "../helpers/llama.js";
import { scratchDir } from "../helpers/paths.js";
import { bundledVocabulary, TINY, writeTinyModel } from "../helpers/syntheticModel.js";

const dir = scratchDir();

test("a written model carries llama hyperparameters, tokenizer, special tokens and chat template", async () => {
  const path = await writeTinyModel(dir);
  const vocabulary = await bundledVocabulary();
  const info = await readGgufFileInfo(path, { readTensorInfo: true });
  const m = info.metadata as Record<string, any>;
  assert.equal(info.version, 3);
  assert.equal(m.general.architecture, "llama");
  assert.equal(m.llama.context_length, TINY.contextLength);
  assert.equal(m.llama.embedding_length, TINY.embeddingLength);
  assert.equal(m.llama.block_count, TINY.blockCount);
  assert.equal(m.llama.attention.head_count_kv, TINY.headCountKv);
  assert.equal(m.tokenizer.ggml.model, "llama");
  assert.deepEqual(m.tokenizer.ggml.tokens, vocabulary.tokens);
  assert.equal(m.tokenizer.ggml.eos_token_id, vocabulary.eos);
  assert.equal(m.tokenizer.ggml.eot_token_id, vocabulary.eot);
  assert.match(m.tokenizer.chat_template, /<\|im_start\|>/);
  const shapes = llamaTensorShapes(TINY, vocabulary.tokens.length);
  assert.equal(info.tensorInfo!.length, shapes.length);
  for (const [i, [name, shape]] of shapes.entries()) {
    assert.equal(info.tensorInfo![i]!.name, name);
    assert.deepEqual(info.tensorInfo![i]!.dimensions.map(Number), shape);
    assert.equal(info.tensorInfo![i]!.ggmlType, shape.length === 1 ? GgmlType.F32 : GgmlType.F16);
  }
});

test("the file size follows the model size: F32 matrices take twice the bytes of F16", async () => {
  const f16 = await writeTinyModel(dir, "size-f16.gguf");
  const f32 = await writeTinyModel(dir, "size-f32.gguf", TINY, GgmlType.F32);
  const deeper = await writeTinyModel(dir, "size-deep.gguf", { ...TINY, blockCount: 4 });
  const vocab = (await bundledVocabulary()).tokens.length;
  const params = (p: typeof TINY) => llamaTensorShapes(p, vocab).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  const [a, b, c] = await Promise.all([f16, f32, deeper].map((p) => stat(p).then((s) => s.size)));
  assert.ok(Math.abs(b! / a! - 2) < 0.02, `F32/F16 size ratio ${b! / a!}`);
  const grew = c! - a!;
  const expected = (params({ ...TINY, blockCount: 4 }) - params(TINY)) * 2;
  assert.ok(Math.abs(grew - expected) < 4096, `two more blocks added ${grew} bytes, expected about ${expected}`);
});

test("node-llama-cpp loads a written model, tokenizes with its vocabulary and generates", async () => {
  const path = await writeTinyModel(dir, "generate.gguf");
  const llama = await testLlama();
  const model = await llama.loadModel({ modelPath: path });
  try {
    const vocabulary = await bundledVocabulary();
    const tokens = model.tokenize("In the beginning");
    assert.ok(tokens.length > 0 && tokens.length < 16);
    assert.equal(model.detokenize(tokens), "In the beginning");
    assert.equal(model.tokens.bos, vocabulary.bos);
    const context = await model.createContext({ contextSize: 128, threads: 1 });
    const generated: number[] = [];
    for await (const token of context.getSequence().evaluate(tokens)) {
      generated.push(token);
      if (generated.length === 8) break;
    }
    assert.equal(generated.length, 8);
    assert.ok(generated.every((t) => t >= 0 && t < vocabulary.tokens.length));
    await context.dispose();
  } finally {
    await model.dispose();
  }
});

test("a failing tensor source fails the write and leaves no file, partial or whole, behind", async () => {
  const { llamaGguf } = await import("../../src/gguf/llamaModel.js");
  const { writeGguf } = await import("../../src/gguf/writer.js");
  const { readdir } = await import("node:fs/promises");
  const before = await readdir(dir);
  let calls = 0;
  const file = llamaGguf({
    name: "broken",
    hyperparams: TINY,
    vocabulary: await bundledVocabulary(),
    weights: (name, shape) => {
      if (++calls === 3) throw new Error(`no data for ${name}`);
      return new Float32Array(shape.reduce((a, b) => a * b, 1));
    },
  });
  await assert.rejects(writeGguf(`${dir}/broken.gguf`, file), /no data for blk\.0\.attn_q\.weight/);
  assert.deepEqual(await readdir(dir), before);
});
