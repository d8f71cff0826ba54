/** The system's Chromium (never downloaded), driven over the DevTools protocol by playwright-core. */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** EDGED_CHROMIUM, else the first of the usual install locations that exists. */
export function findChromium(): string | undefined {
  return process.env.EDGED_CHROMIUM || CANDIDATES.find((path) => existsSync(path));
}

export function launchChromium(executablePath: string): Promise<Browser> {
  // the sandbox needs user namespaces that containers and root often lack; the pages are this daemon's own
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
}
