/** Polls `read` until it returns a value, or fails naming what it waited for. */
import { setTimeout as sleep } from "node:timers/promises";

export async function until<T>(what: string, read: () => Promise<T | undefined>, ms = 30_000, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
