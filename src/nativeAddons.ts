/** Where the project's own native addons (native/, built by `npm run build:native`) are. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The built file of addon `name` (a target of native/binding.gyp); it may not exist. */
export function nativeAddonPath(name: string): string {
  return join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "native", "build", "Release", `${name}.node`);
}
