/** Reading model file names: the quantization they carry, and which file of a split model to load. */
import { basename } from "node:path";
import { FILE_TYPES } from "../../quantize/fileTypes.js";

/** Longest first, so Q4_K_M is found before Q4_K. */
const QUANTS = Object.keys(FILE_TYPES).sort((a, b) => b.length - a.length);

/** The quantization named in a file name (`Mistral-7B.Q4_K_M.gguf` -> "Q4_K_M"), case-insensitively. */
export function quantInName(file: string): string | undefined {
  const name = basename(file).toUpperCase();
  return QUANTS.find((q) => new RegExp(`(^|[-._])${q}([-._]|$)`).test(name));
}

/** A split model (`x-00002-of-00003.gguf`) is loaded from its first part; other files are their own model. */
export function isFirstShard(file: string): boolean {
  const split = /-(\d{5})-of-(\d{5})\.gguf$/i.exec(file);
  return !split || split[1] === "00001";
}
