/** Alert rules: a signal compared with a threshold, held for a while before it fires. The defaults cover a device's usual troubles. */
import { z } from "zod";
import { Duration } from "../config/duration.js";
import { SIGNALS, type SignalName } from "./signals.js";

export const AlertRule = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "an alert name is letters, digits and underscores"),
    signal: z.enum(Object.keys(SIGNALS) as [SignalName, ...SignalName[]]),
    op: z.enum([">", "<"]),
    threshold: z.number(),
    /** How long the condition must hold before the alert fires (Prometheus's `for:`). */
    for: Duration.default("0s"),
    severity: z.enum(["warning", "critical"]).default("warning"),
  })
  .strict();
export type AlertRule = z.infer<typeof AlertRule>;

export const DEFAULT_RULES: AlertRule[] = [
  { name: "SlowRequests", signal: "request_latency_p95_seconds", op: ">", threshold: 3, for: "5m", severity: "warning" },
  { name: "ErrorRate", signal: "error_ratio", op: ">", threshold: 0.02, for: "5m", severity: "critical" },
  { name: "TokenBurn", signal: "cloud_tokens_per_hour", op: ">", threshold: 50_000, for: "0s", severity: "warning" },
  { name: "CloudBreakerOpen", signal: "breaker_open", op: ">", threshold: 0, for: "5m", severity: "warning" },
  { name: "OfflineQueueBacklog", signal: "queued_jobs", op: ">", threshold: 100, for: "1m", severity: "warning" },
  { name: "DataDirectoryFull", signal: "data_dir_free_bytes", op: "<", threshold: 1024 ** 3, for: "1m", severity: "critical" },
  { name: "ModelLoadFailed", signal: "model_load_failures", op: ">", threshold: 0, for: "0s", severity: "critical" },
  { name: "AgreementDrift", signal: "agreement_drop", op: ">", threshold: 0.05, for: "10m", severity: "warning" },
];
