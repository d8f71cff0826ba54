/** `edged queue <command>`: the offline queue in the data directory (works beside a running daemon). */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { Duration, durationMs } from "../config/duration.js";
import { openDatabase } from "../db/open.js";
import { jobView } from "../http/queue/jobView.js";
import { FinishedStatus, JobStatus } from "../offline/job.js";
import { JobStore } from "../offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../offline/migrations.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged queue <command> [--data-dir DIR] [--config FILE]
  stats                                       jobs by status
  list [--status S] [--limit N]               jobs, newest first (S: ${JobStatus.options.join(", ")})
  show ID                                     one job with its result and its history
  purge --status S --older-than AGE           delete finished jobs older than AGE (S: ${FinishedStatus.options.join(", ")}; AGE e.g. 168h)`;

export async function queueCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "data-dir": { type: "string" },
      config: { type: "string" },
      status: { type: "string" },
      limit: { type: "string", default: "100" },
      "older-than": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"] } });
  const db = openDatabase(join(config.dataDir, "queue.db"), OFFLINE_MIGRATIONS);
  const jobs = new JobStore(db);
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  const parsed = <T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown, what: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new UsageError(`invalid ${what}: ${String(value)}\n${USAGE}`);
    return r.data;
  };
  try {
    switch (command) {
      case "stats":
        return print(jobs.counts());
      case "list":
        return print(jobs.list({ status: values.status === undefined ? undefined : parsed(JobStatus, values.status, "--status"), limit: Number(values.limit) }).map(jobView));
      case "show": {
        if (args.length !== 1) throw new UsageError("usage: edged queue show ID");
        const job = jobs.get(args[0]!);
        if (!job) throw new Error(`no queued job ${args[0]}`);
        return print({ ...jobView(job), events: jobs.events(job.id) });
      }
      case "purge": {
        const status = parsed(FinishedStatus, values.status, "--status");
        const age = durationMs(parsed(Duration, values["older-than"], "--older-than"));
        return console.log(`purged ${jobs.purge({ status, olderThanMs: age })} ${status} job(s)`);
      }
      default:
        throw new UsageError(`unknown queue command "${command}"\n${USAGE}`);
    }
  } finally {
    db.close();
  }
}
