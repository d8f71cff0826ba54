import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Gauge, Histogram, Registry } from "../../src/telemetry/metrics.js";

test("renders counters, gauges and cumulative histograms in Prometheus text format", () => {
  const r = new Registry();
  const c = r.add(new Counter("x_total", "things"));
  c.inc({ route: "/a", status: "200" });
  c.inc({ status: "200", route: "/a" }, 2);
  c.inc({ route: 'q"uote' });
  r.add(new Gauge("depth", "queue depth", () => 7));
  const h = r.add(new Histogram("lat_seconds", "latency", [0.1, 1]));
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const text = r.render();
  assert.match(text, /# TYPE x_total counter\n/);
  assert.match(text, /^x_total\{route="\/a",status="200"\} 3$/m);
  assert.match(text, /^x_total\{route="q\\"uote"\} 1$/m);
  assert.match(text, /^depth 7$/m);
  assert.match(text, /^lat_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^lat_seconds_bucket\{le="1"\} 2$/m);
  assert.match(text, /^lat_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(text, /^lat_seconds_sum 5.55$/m);
  assert.match(text, /^lat_seconds_count 3$/m);
});
