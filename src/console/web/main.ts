/** The console's entry: one page at a time by the URL's hash, each stopped (its polling and streams) when left. */
import { overview } from "./overview.js";
import { memory } from "./memory.js";
import type { Page } from "./page.js";
import { playground } from "./playground.js";
import { traffic } from "./traffic.js";
import { cloud } from "./cloud.js";
import { models } from "./models.js";

const PAGES: Record<string, Page> = { overview, traffic, playground, cloud, memory, models };

const view = document.getElementById("view")!;
let current: AbortController | undefined;

function show(): void {
  const name = /^#\/(\w+)/.exec(location.hash)?.[1] ?? "overview";
  const page = PAGES[name] ?? overview;
  current?.abort();
  current = new AbortController();
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (link.hash === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${page.title} · edged console`;
  view.replaceChildren();
  page.show(view, current.signal);
  // a page reached from the navigation takes the focus, so keyboard users continue from its heading
  if (document.activeElement?.closest("nav")) view.querySelector<HTMLElement>("h1")?.focus();
}

window.addEventListener("hashchange", show);
show();
