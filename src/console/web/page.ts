/** What every page of the console is: a title and a function that fills the view until its signal aborts. */
import { fill, h, state } from "./dom.js";

export interface Page {
  title: string;
  show(view: HTMLElement, signal: AbortSignal): void;
}

/**
 * Runs `refresh` now and then every `everyMs` until the page is left, one at a time; while the first is under way
 * `target` says it is loading, and a failure shows the server's message there until a later refresh succeeds.
 */
export function poll(target: HTMLElement, everyMs: number, signal: AbortSignal, refresh: () => Promise<void>): void {
  fill(target, state("loading", "Loading…"));
  const run = async () => {
    if (signal.aborted) return;
    try {
      await refresh();
    } catch (error) {
      if (!signal.aborted) fill(target, state("error", (error as Error).message));
    }
    if (!signal.aborted) setTimeout(run, everyMs);
  };
  void run();
}

/** A button's action with the button disabled while it runs and a failure shown next to it. */
export function action(button: HTMLButtonElement, out: HTMLElement, run: () => Promise<void>): void {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      fill(out, state("error", (error as Error).message));
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * A button for something that cannot be undone: its first press asks, in place, for a second one (or Cancel),
 * so nothing is lost to a stray click or key press.
 */
export function confirmed(label: string, question: string, out: HTMLElement, run: () => Promise<void>): HTMLElement {
  const holder = h("span", { class: "confirm" });
  const start = h("button", { type: "button", class: "danger" }, label);
  const ask = () => {
    const yes = h("button", { type: "button", class: "danger" }, `Yes, ${label.toLowerCase()}`);
    const no = h("button", { type: "button" }, "Cancel");
    no.addEventListener("click", () => {
      fill(holder, start);
      start.focus();
    });
    action(yes, out, async () => {
      await run();
      fill(holder, start);
    });
    fill(holder, h("span", { role: "alert" }, question), " ", yes, " ", no);
    no.focus();
  };
  start.addEventListener("click", ask);
  fill(holder, start);
  return holder;
}
