/**
 * A real Chromium for the console's tests (see benchmarks/harness/browser.ts). Where none is installed they skip
 * saying so, unless EDGED_REQUIRE_BROWSER is set (CI installs Chromium and sets it, so there they fail instead).
 */
import type { Browser, Page } from "playwright-core";
import { findChromium } from "../../benchmarks/harness/browser.js";

export { launchChromium as launchBrowser } from "../../benchmarks/harness/browser.js";

export function chromiumPath(): string | undefined {
  const found = findChromium();
  if (!found && process.env.EDGED_REQUIRE_BROWSER) throw new Error("no Chromium found (set EDGED_CHROMIUM, or install the chromium package)");
  return found;
}

/** What went wrong in a page: script errors, console errors and Content-Security-Policy violations. */
export interface PageTrouble {
  errors: string[];
}

/** A new page, `width` wide, that records its troubles (CSP violations are reported from inside the page, as they happen). */
export async function watchedPage(browser: Browser, width = 1280): Promise<{ page: Page; trouble: PageTrouble }> {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  const trouble: PageTrouble = { errors: [] };
  page.on("pageerror", (error) => trouble.errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // a refused or missing resource is the daemon answering (401 before a key, say), which the tests check by behaviour
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) trouble.errors.push(`console error: ${message.text()}`);
  });
  await page.exposeFunction("__reportViolation", (text: string) => trouble.errors.push(`CSP violation: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => (window as unknown as { __reportViolation(t: string): void }).__reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, trouble };
}
