/**
 * llama.cpp's own tools (llama-server, llama-bench), built once from the source node-llama-cpp bundles — the same
 * llama.cpp edged runs — into .cache/llama.cpp, with progress. The build is portable x86-64 with AVX-512 and
 * without AMX: a native build on CPUs with AMX crashes in ggml_backend_amx_mul_mat on Q4_K files.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ROOT } from "../harness/paths.js";

export const LLAMA_CPP_DIR = join(ROOT, ".cache", "llama.cpp");
const BUNDLE = join(ROOT, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
const BUILD = join(LLAMA_CPP_DIR, "build");
const TARGETS = ["llama-server", "llama-bench"];

const CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DGGML_NATIVE=OFF",
  "-DGGML_AVX=ON",
  "-DGGML_AVX2=ON",
  "-DGGML_FMA=ON",
  "-DGGML_F16C=ON",
  "-DGGML_AVX512=ON",
  "-DGGML_AVX512_VNNI=ON",
  "-DGGML_AVX512_BF16=ON",
  "-DGGML_AVX_VNNI=ON",
  "-DGGML_AMX_TILE=OFF",
  "-DGGML_AMX_INT8=OFF",
  "-DGGML_AMX_BF16=OFF",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_OPENSSL=OFF",
];

function run(command: string, args: string[], onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT });
    let tail = "";
    const read = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      for (const line of d.toString().split("\n")) if (line.trim()) onLine?.(line);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} failed (${code}):\n${tail}`))));
  });
}

export const toolPath = (name: string) => join(BUILD, "bin", name);

/** The tools' paths, building them first if they are not there (about 15 minutes on 2 cores). */
export async function llamaCppTools(log: (line: string) => void = (l) => console.error(l)): Promise<{ server: string; bench: string }> {
  const tools = { server: toolPath("llama-server"), bench: toolPath("llama-bench") };
  if (existsSync(tools.server) && existsSync(tools.bench)) return tools;
  if (!existsSync(join(LLAMA_CPP_DIR, "CMakeLists.txt"))) {
    log(`cloning node-llama-cpp's bundled llama.cpp source into ${LLAMA_CPP_DIR}`);
    await run("git", ["clone", "--quiet", BUNDLE, LLAMA_CPP_DIR]);
  }
  log("configuring llama.cpp (portable AVX-512 build, AMX off)");
  await run("cmake", ["-S", LLAMA_CPP_DIR, "-B", BUILD, ...CMAKE_FLAGS]);
  log(`building ${TARGETS.join(" and ")} (once; about 15 minutes on 2 cores)`);
  let shown = -1;
  await run("cmake", ["--build", BUILD, "--parallel", String(availableParallelism()), "--target", ...TARGETS], (line) => {
    // Make prints "[ 42%]", Ninja "[12/345]".
    const step = /^\[\s*(\d+)%\]/.exec(line) ?? /^\[(\d+)\/(\d+)\]/.exec(line);
    if (!step) return;
    const percent = step[2] ? Math.floor((Number(step[1]) / Number(step[2])) * 100) : Number(step[1]);
    if (percent >= shown + 5) log(`building llama.cpp: ${(shown = percent)} %`);
  });
  return tools;
}

if (process.argv[1]?.endsWith("llamaCppTools.js")) console.log(await llamaCppTools());
