// Builds the quantizer addon at install: headers come from the llama.cpp git bundle inside node-llama-cpp,
// the library is the prebuilt libllama of node-llama-cpp's platform package. Nothing is downloaded.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function packageRoot(entry, name) {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === name) return dir;
  }
  throw new Error(`cannot find the package root of ${name}`);
}

/** The prebuilt binaries folder of node-llama-cpp for this platform (CPU build), and the libllama file in it. */
function findLibllama() {
  const platform = { linux: "linux", darwin: "mac", win32: "win" }[process.platform];
  const candidates = [`${platform}-${process.arch}`, `${platform}-${process.arch}-metal`];
  for (const name of candidates) {
    let root;
    try {
      root = packageRoot(fileURLToPath(import.meta.resolve(`@node-llama-cpp/${name}`)), `@node-llama-cpp/${name}`);
    } catch {
      continue;
    }
    for (const dir of readdirSync(join(root, "bins"))) {
      const file = readdirSync(join(root, "bins", dir)).find((f) => /^(lib)?llama(\.v[\d.]+)?\.(so|dylib|lib)$/.test(f));
      if (file) return { dir: join(root, "bins", dir), file };
    }
  }
  throw new Error(`no prebuilt libllama from node-llama-cpp for ${process.platform}-${process.arch}`);
}

function extractHeaders(nodeLlamaCpp) {
  const bundle = join(nodeLlamaCpp, "llama", "gitRelease.bundle");
  const repo = join(here, "build", "llama.cpp.git");
  const out = join(here, "include");
  rmSync(repo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const git = (...args) => execFileSync("git", ["--git-dir", repo, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  execFileSync("git", ["init", "--quiet", "--bare", repo]);
  git("fetch", "--quiet", bundle, "HEAD");
  const archive = git("archive", "--format=tar", "FETCH_HEAD", "include", "ggml/include");
  execFileSync("tar", ["-x", "-C", out], { input: archive });
  rmSync(repo, { recursive: true, force: true });
}

/** npm names its bundled node-gyp in scripts; run by hand, look for the copy npm ships beside node. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const prefix = dirname(dirname(process.execPath));
  const bundled = [join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")].find(existsSync);
  if (bundled) return [process.execPath, bundled];
  return [process.platform === "win32" ? "node-gyp.cmd" : "node-gyp"];
}

const nodeLlamaCpp = packageRoot(fileURLToPath(import.meta.resolve("node-llama-cpp")), "node-llama-cpp");
const lib = findLibllama();
console.log(`edged: building the quantizer against ${lib.file}`);
extractHeaders(nodeLlamaCpp);
const [cmd, ...pre] = nodeGyp();
const nodedir = process.env.npm_config_nodedir
  ? []
  : existsSync(join(dirname(dirname(process.execPath)), "include", "node", "node_api.h"))
    ? [`--nodedir=${dirname(dirname(process.execPath))}`]
    : [];
execFileSync(cmd, [...pre, "rebuild", "--release", ...nodedir, "--", `-Dllama_lib_dir=${lib.dir}`, `-Dllama_lib_file=${lib.file}`], {
  cwd: here,
  stdio: "inherit",
});
