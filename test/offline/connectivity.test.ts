import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectivityWatcher } from "../../src/offline/connectivity.js";
import { FakeClock, settle } from "./fakeClock.js";

function watch(options: Omit<ConstructorParameters<typeof ConnectivityWatcher>[0], "timers">) {
  const clock = new FakeClock();
  const watcher = new ConnectivityWatcher({ ...options, timers: clock });
  const changes: boolean[] = [];
  watcher.on("change", (online) => changes.push(online));
  return { clock, watcher, changes };
}

test("consecutive connection failures flip it offline; an answer in between resets the count", () => {
  const { watcher, changes } = watch({ probe: async () => false, failuresToOffline: 2 });
  assert.equal(watcher.online, true);
  watcher.reportFailure();
  watcher.reportSuccess();
  watcher.reportFailure();
  assert.equal(watcher.online, true);
  watcher.reportFailure();
  assert.equal(watcher.online, false);
  watcher.reportFailure();
  assert.deepEqual(changes, [false]);
  watcher.stop();
});

test("while offline it probes every interval and comes back online when a probe succeeds", async () => {
  let up = false;
  let probes = 0;
  const { clock, watcher, changes } = watch({
    probe: async () => {
      probes++;
      return up;
    },
    probeIntervalMs: 1000,
  });
  watcher.reportFailure();
  clock.advance(999);
  await settle();
  assert.equal(probes, 0);
  clock.advance(1);
  await settle();
  assert.equal(probes, 1);
  clock.advance(1000);
  await settle();
  assert.deepEqual([probes, watcher.online], [2, false]);
  up = true;
  clock.advance(1000);
  await settle();
  assert.deepEqual([probes, watcher.online], [3, true]);
  clock.advance(10_000);
  await settle();
  assert.equal(probes, 3);
  assert.deepEqual(changes, [false, true]);
});

test("a probe that hangs is abandoned after its timeout, one that throws has failed, and probing goes on", async () => {
  let mode: "hang" | "throw" | "up" = "hang";
  const signals: AbortSignal[] = [];
  const { clock, watcher, changes } = watch({
    probe: (signal) => {
      signals.push(signal);
      if (mode === "hang") return new Promise<boolean>(() => {});
      if (mode === "throw") return Promise.reject(new Error("connect ECONNREFUSED"));
      return Promise.resolve(true);
    },
    online: false,
    probeIntervalMs: 1000,
    probeTimeoutMs: 300,
  });
  clock.advance(0);
  await settle();
  assert.equal(signals.length, 1);
  clock.advance(300);
  await settle();
  assert.equal(signals[0]!.aborted, true);
  mode = "throw";
  clock.advance(1000);
  await settle();
  assert.deepEqual([signals.length, watcher.online], [2, false]);
  mode = "up";
  clock.advance(1000);
  await settle();
  assert.deepEqual([signals.length, watcher.online], [3, true]);
  assert.deepEqual(changes, [true]);
});

test("an observed answer while offline ends probing at once; stop() ends it too", async () => {
  let probes = 0;
  const { clock, watcher, changes } = watch({
    probe: async () => {
      probes++;
      return false;
    },
    probeIntervalMs: 1000,
  });
  watcher.reportFailure();
  assert.equal(clock.timers, 1);
  watcher.reportSuccess();
  assert.deepEqual([watcher.online, clock.timers], [true, 0]);
  watcher.reportFailure();
  watcher.stop();
  assert.equal(clock.timers, 0);
  clock.advance(10_000);
  await settle();
  assert.equal(probes, 0);
  assert.deepEqual(changes, [false, true, false]);
});
