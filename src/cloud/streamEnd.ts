/**
 * How a stream of cloud events ended, reported once: completed (its `done` event went out), failed (iterating threw),
 * or abandoned (the consumer called `return()`, by leaving a for-await loop, even before the first event).
 * An async generator cannot report the last case when it never started, so this is a hand-written iterator.
 */
import type { CloudEvent } from "./types.js";

export type StreamEnd = { kind: "completed" } | { kind: "failed"; error: unknown } | { kind: "abandoned" };

export function onStreamEnd(events: AsyncIterable<CloudEvent>, listener: (end: StreamEnd) => void): AsyncIterable<CloudEvent> {
  let ended = false;
  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = true;
    listener(how);
  };
  return {
    [Symbol.asyncIterator]() {
      const source = events[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await source.next();
            if (step.done) end({ kind: "failed", error: new Error("the stream ended without a done event") });
            else if (step.value.type === "done") end({ kind: "completed" });
            return step;
          } catch (error) {
            end({ kind: "failed", error });
            throw error;
          }
        },
        async return(value?: unknown) {
          end({ kind: "abandoned" });
          return (await source.return?.(value)) ?? { done: true as const, value };
        },
      };
    },
  };
}
