/** Sentence embeddings from an ONNX model on onnxruntime-node, on the best execution provider that opens it. */
import * as ort from "onnxruntime-node";
import type { OnnxModelEntry } from "../../models/manifest.js";
import { choose, rankProviders, type ProviderChoice, type ProviderClass } from "./executionProviders.js";
import { encodeWords } from "./wordHash.js";

export interface OnnxEmbedderOptions {
  /** Intra-op threads; 1 keeps the event loop's core free on small machines. */
  threads?: number;
  /** Device classes the model may use, in the manifest's terms. */
  devices?: readonly ProviderClass[];
  /** Whether the hardware probe found a GPU (GPU providers are skipped otherwise). */
  gpuPresent?: boolean;
}

export class OnnxEmbedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly entry: Pick<OnnxModelEntry, "dimensions" | "tokenizer">,
    readonly provider: ProviderChoice,
  ) {}

  static async load(path: string, entry: Pick<OnnxModelEntry, "dimensions" | "tokenizer">, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    ort.env.logLevel = "fatal"; // a provider that fails to open is reported in `provider.rejected`, not on stderr
    const candidates = rankProviders(ort.listSupportedBackends(), { allowed: options.devices, gpuPresent: options.gpuPresent });
    const { value, choice } = await choose(candidates, (provider) =>
      ort.InferenceSession.create(path, {
        executionProviders: [provider],
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
      }),
    );
    return new OnnxEmbedder(value, entry, choice);
  }

  /** Token count of each text as the model sees it (after truncation). */
  tokenCounts(texts: readonly string[]): number[] {
    return texts.map((t) => encodeWords(t, this.entry.tokenizer).length);
  }

  /** One L2-normalized vector per text. */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const rows = texts.map((t) => encodeWords(t, this.entry.tokenizer));
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width);
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((row, i) =>
      row.forEach((id, j) => {
        ids[i * width + j] = BigInt(id);
        mask[i * width + j] = 1n;
      }),
    );
    const dims = [rows.length, width];
    const out = await this.session.run({ input_ids: new ort.Tensor("int64", ids, dims), attention_mask: new ort.Tensor("int64", mask, dims) });
    const data = out["embeddings"]!.data as Float32Array;
    const d = this.entry.dimensions;
    return rows.map((_, i) => data.slice(i * d, (i + 1) * d));
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
