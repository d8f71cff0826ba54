/** The process's one llama.cpp runtime. `build: "never"`: a missing prebuilt binary is an error, not a compile. */
import { getLlama, type Llama } from "node-llama-cpp";

let runtime: Promise<Llama> | undefined;

export function llamaRuntime(): Promise<Llama> {
  runtime ??= getLlama({ gpu: "auto", build: "never", logLevel: "error" as never, progressLogs: false });
  return runtime;
}
