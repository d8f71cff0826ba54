/**
 * Everything the probe reads, behind one interface: the live machine, or a recording of another machine
 * (tests feed recorded laptops, NPU boxes and kiosks through the same probe code).
 */
import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { arch, cpus, freemem, platform, totalmem } from "node:os";
import { promisify } from "node:util";
import { z } from "zod";

export const LlamaGpuReport = z.object({
  /** node-llama-cpp's chosen backend, false for CPU only. */
  gpu: z.union([z.literal(false), z.enum(["cuda", "vulkan", "metal"])]),
  devices: z.array(z.string()),
  vram: z.object({ total: z.number(), free: z.number(), unifiedSize: z.number().default(0) }),
});
export type LlamaGpuReport = z.infer<typeof LlamaGpuReport>;

export interface ProbeSources {
  platform: string;
  arch: string;
  logicalCpus(): { model: string }[];
  totalMemory(): number;
  freeMemory(): number;
  /** File contents, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  list(dir: string): Promise<string[]>;
  link(path: string): Promise<string | undefined>;
  /** stdout of a command, or undefined when it fails. */
  run(command: string, args: string[]): Promise<string | undefined>;
  llamaGpu(): Promise<LlamaGpuReport>;
  onnxBackends(): Promise<{ name: string; bundled: boolean }[]>;
}

/** The recorded form of a machine, as stored in test/hardware/recordings/*.json. */
export const Recording = z.object({
  description: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpus: z.object({ model: z.string(), count: z.number().int().positive() }),
  totalMemory: z.number(),
  freeMemory: z.number(),
  files: z.record(z.string(), z.string()).default({}),
  dirs: z.record(z.string(), z.array(z.string())).default({}),
  links: z.record(z.string(), z.string()).default({}),
  commands: z.record(z.string(), z.string()).default({}),
  llama: LlamaGpuReport,
  onnxBackends: z.array(z.object({ name: z.string(), bundled: z.boolean() })),
});
export type Recording = z.infer<typeof Recording>;

export function recordedSources(r: Recording): ProbeSources {
  return {
    platform: r.platform,
    arch: r.arch,
    logicalCpus: () => Array.from({ length: r.cpus.count }, () => ({ model: r.cpus.model })),
    totalMemory: () => r.totalMemory,
    freeMemory: () => r.freeMemory,
    readText: async (path) => r.files[path],
    list: async (dir) => r.dirs[dir] ?? [],
    link: async (path) => r.links[path],
    run: async (command, args) => r.commands[[command, ...args].join(" ")],
    llamaGpu: async () => r.llama,
    onnxBackends: async () => r.onnxBackends,
  };
}

const run = promisify(execFile);

export function liveSources(): ProbeSources {
  return {
    platform: platform(),
    arch: arch(),
    logicalCpus: () => cpus(),
    totalMemory: totalmem,
    freeMemory: freemem,
    readText: (path) => readFile(path, "utf8").catch(() => undefined),
    list: (dir) => readdir(dir).catch(() => []),
    link: (path) => readlink(path).catch(() => undefined),
    run: (command, args) => run(command, args, { timeout: 3000 }).then((r) => r.stdout, () => undefined),
    async llamaGpu() {
      const { llamaRuntime } = await import("../engines/llama/runtime.js");
      const llama = await llamaRuntime();
      const vram = await llama.getVramState();
      return { gpu: llama.gpu, devices: llama.gpu ? await llama.getGpuDeviceNames() : [], vram: { total: vram.total, free: vram.free, unifiedSize: vram.unifiedSize } };
    },
    async onnxBackends() {
      const ort = await import("onnxruntime-node");
      return ort.listSupportedBackends();
    },
  };
}

/** Wraps live sources and remembers every answer, so a machine can be recorded and replayed elsewhere. */
export function recordingSources(inner: ProbeSources, description: string): { sources: ProbeSources; recording(): Promise<Recording> } {
  const files: Record<string, string> = {};
  const dirs: Record<string, string[]> = {};
  const links: Record<string, string> = {};
  const commands: Record<string, string> = {};
  const sources: ProbeSources = {
    ...inner,
    readText: async (path) => {
      const text = await inner.readText(path);
      if (text !== undefined) files[path] = text;
      return text;
    },
    list: async (dir) => (dirs[dir] = await inner.list(dir)),
    link: async (path) => {
      const target = await inner.link(path);
      if (target !== undefined) links[path] = target;
      return target;
    },
    run: async (command, args) => {
      const out = await inner.run(command, args);
      if (out !== undefined) commands[[command, ...args].join(" ")] = out;
      return out;
    },
  };
  return {
    sources,
    recording: async () =>
      Recording.parse({
        description,
        platform: inner.platform,
        arch: inner.arch,
        cpus: { model: inner.logicalCpus()[0]?.model ?? "unknown", count: inner.logicalCpus().length },
        totalMemory: inner.totalMemory(),
        freeMemory: inner.freeMemory(),
        files,
        dirs,
        links,
        commands,
        llama: await inner.llamaGpu(),
        onnxBackends: await inner.onnxBackends(),
      }),
  };
}
