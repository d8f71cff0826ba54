/** One node-llama-cpp instance for a test process, CPU only and never building from source. */
import { getLlama, type Llama } from "node-llama-cpp";

let llama: Promise<Llama> | undefined;
export const testLlama = () => (llama ??= getLlama({ gpu: false, build: "never", logLevel: "error" as never }));
