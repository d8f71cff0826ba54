/**
 * Every default rule driven to firing and back to resolved through real metrics (the registry the daemon serves),
 * with an injected clock: pending first, firing once its `for:` has passed, resolved when the condition ends.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AlertEngine, type AlertEvent } from "../../src/alerts/engine.js";
import { DEFAULT_RULES } from "../../src/alerts/rules.js";
import { Counter, Gauge, Histogram, Registry } from "../../src/telemetry/metrics.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

function fixture() {
  const registry = new Registry();
  const requests = registry.add(new Counter("edged_http_requests_total", "requests"));
  const latency = registry.add(new Histogram("edged_request_duration_seconds", "latency", [0.05, 0.25, 1, 2.5, 5, 10]));
  const cloudTokens = registry.add(new Counter("edged_cloud_tokens_total", "cloud tokens"));
  const loadFailures = registry.add(new Counter("edged_model_load_failures_total", "load failures"));
  const state = { breaker: 0, queued: 0, free: 50 * 1024 ** 3 };
  registry.add(new Gauge("edged_cloud_breaker_state", "breaker", () => [[{ provider: "cloud" }, state.breaker]]));
  registry.add(new Gauge("edged_offline_jobs", "jobs", () => [[{ status: "queued" }, state.queued], [{ status: "done" }, 500]]));
  registry.add(new Gauge("edged_data_dir_free_bytes", "free", () => state.free));
  let clock = 0;
  const events: AlertEvent[] = [];
  const engine = new AlertEngine(DEFAULT_RULES, () => registry.render(), (e) => events.push(e), () => clock);
  /** Advances the clock by `ms` in 15 s evaluations, running `each` before every one. */
  const run = (ms: number, each: () => void = () => undefined) => {
    for (let t = 0; t < ms; t += 15 * SECOND) {
      clock += 15 * SECOND;
      each();
      engine.evaluate();
    }
  };
  const stateOf = (name: string) => engine.alerts().find((a) => a.name === name)!.state;
  const seen = (name: string) => events.filter((e) => e.name === name).map((e) => e.state);
  engine.evaluate();
  return { requests, latency, cloudTokens, loadFailures, state, run, stateOf, seen, engine, events };
}

test("a quiet daemon raises nothing", () => {
  const f = fixture();
  f.run(30 * MINUTE, () => {
    f.requests.inc({ route: "/v1/chat/completions", status: "200" });
    f.latency.observe(0.03, { route: "/v1/chat/completions" });
  });
  assert.deepEqual(f.events, []);
  assert.ok(f.engine.alerts().every((a) => a.state === "inactive"));
});

test("slow requests: pending at once, firing after 5 minutes, resolved once the window holds fast ones only", () => {
  const f = fixture();
  f.run(4 * MINUTE, () => f.latency.observe(4, { route: "/v1/chat/completions" }));
  assert.equal(f.stateOf("SlowRequests"), "pending");
  f.run(1.5 * MINUTE, () => f.latency.observe(4, { route: "/v1/chat/completions" }));
  assert.equal(f.stateOf("SlowRequests"), "firing");
  const view = f.engine.alerts()[0]!;
  assert.equal(view.name, "SlowRequests");
  assert.ok(view.value! > 3 && view.firingSince !== undefined);
  f.run(6 * MINUTE, () => f.latency.observe(0.03, { route: "/v1/chat/completions" }));
  assert.equal(f.stateOf("SlowRequests"), "inactive");
  assert.deepEqual(f.seen("SlowRequests"), ["pending", "firing", "resolved"]);
});

test("requests slower than the last bucket count at its bound, as histogram_quantile has it: they fire SlowRequests", () => {
  const f = fixture();
  f.run(6 * MINUTE, () => f.latency.observe(20, { route: "/v1/chat/completions" }));
  assert.equal(f.stateOf("SlowRequests"), "firing");
  assert.equal(f.engine.alerts().find((a) => a.name === "SlowRequests")!.value, 10, "the highest finite bound");
});

test("error rate over 2 % for 5 minutes fires critical, and resolves when errors stop", () => {
  const f = fixture();
  const traffic = (errors: boolean) => () => {
    f.requests.inc({ route: "/v1/chat/completions", status: "200" }, 10);
    if (errors) f.requests.inc({ route: "/v1/chat/completions", status: "502" }, 1);
  };
  f.run(5.5 * MINUTE, traffic(true));
  const firing = f.events.find((e) => e.name === "ErrorRate" && e.state === "firing")!;
  assert.equal(firing.severity, "critical");
  assert.ok(Math.abs(firing.value! - 1 / 11) < 1e-9);
  f.run(6 * MINUTE, traffic(false));
  assert.deepEqual(f.seen("ErrorRate"), ["pending", "firing", "resolved"]);
});

test("more than 50k cloud tokens in an hour fires at once; it resolves when the hour's count falls back", () => {
  const f = fixture();
  f.run(30 * MINUTE, () => {
    f.cloudTokens.inc({ via: "direct" }, 300);
    f.cloudTokens.inc({ via: "queue" }, 200);
  });
  assert.equal(f.stateOf("TokenBurn"), "firing"); // 120 evaluations × 500 tokens = 60k
  f.run(70 * MINUTE);
  assert.deepEqual(f.seen("TokenBurn"), ["pending", "firing", "resolved"]);
});

test("a breaker held open for 5 minutes fires; closing it resolves", () => {
  const f = fixture();
  f.state.breaker = 2;
  f.run(5 * MINUTE); // seen open first at 15 s: 4 min 45 s so far
  assert.equal(f.stateOf("CloudBreakerOpen"), "pending");
  f.run(15 * SECOND);
  assert.equal(f.stateOf("CloudBreakerOpen"), "firing");
  f.state.breaker = 0;
  f.run(15 * SECOND);
  assert.deepEqual(f.seen("CloudBreakerOpen"), ["pending", "firing", "resolved"]);
});

test("a queue past 100 waiting jobs for a minute, free space under 1 GiB for a minute, a model that failed to load", () => {
  const f = fixture();
  f.state.queued = 150;
  f.state.free = 200 * 1024 ** 2;
  f.loadFailures.inc({ model: "broken:q4" });
  f.run(15 * SECOND);
  assert.equal(f.stateOf("ModelLoadFailed"), "firing", "for: 0s fires on the first evaluation that sees it");
  assert.equal(f.stateOf("OfflineQueueBacklog"), "pending");
  f.run(1 * MINUTE);
  assert.equal(f.stateOf("OfflineQueueBacklog"), "firing");
  assert.equal(f.stateOf("DataDirectoryFull"), "firing");
  f.state.queued = 3;
  f.state.free = 20 * 1024 ** 3;
  f.run(5 * MINUTE);
  for (const name of ["OfflineQueueBacklog", "DataDirectoryFull", "ModelLoadFailed"]) assert.deepEqual(f.seen(name), ["pending", "firing", "resolved"], name);
});

test("a condition that ends before its for: never fires and sends no resolution", () => {
  const f = fixture();
  f.state.breaker = 2;
  f.run(2 * MINUTE);
  f.state.breaker = 0;
  f.run(10 * MINUTE);
  assert.deepEqual(f.seen("CloudBreakerOpen"), ["pending"]);
});
