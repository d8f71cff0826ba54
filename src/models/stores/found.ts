/** What a scan of another tool's model store yields: the files to serve, and the ones it could not use and why. */
import type { ModelDefaults, ModelSource, TemplateOverride } from "../entry.js";

export interface FoundModel {
  id: string;
  path: string;
  /** When the store names the file by its sha256 (Ollama's blobs, the Hugging Face cache): checked against it. */
  sha256?: string;
  source: ModelSource;
  template?: TemplateOverride;
  defaults?: ModelDefaults;
}

export interface StoreProblem {
  path: string;
  reason: string;
}

export interface StoreScan {
  found: FoundModel[];
  problems: StoreProblem[];
}

export interface ModelStore {
  readonly kind: ModelSource["kind"];
  /** The folder it reads, when it exists. */
  readonly root: string | undefined;
  scan(): Promise<StoreScan>;
}
