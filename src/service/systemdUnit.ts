/**
 * The systemd unit that runs `edged serve` unattended: restarted when it fails, but not when it refused to start
 * for a reason a restart cannot fix (exit 78: a bad configuration, a damaged database, a read-only data
 * directory), sandboxed read-only except its data directory, within the memory the configuration allows, and
 * reloaded with SIGHUP. Readiness is told to systemd once the models are loaded (Type=notify).
 */
import { EX_CONFIG } from "../exitCodes.js";
import type { Config } from "../config/schema.js";

export interface UnitOptions {
  /** User unit (systemctl --user) or system unit. */
  user: boolean;
  /** The Node.js executable and the edged entry it runs. */
  node: string;
  entry: string;
  /** The config file the daemon reads, if any (absolute). */
  configFile?: string;
  config: Config;
}

/** systemd's quoting for one ExecStart argument. */
const quote = (arg: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\])/g, "\\$1")}"`);

/** MemoryHigh / MemoryMax: the configured ones, else derived from the models' memory budget (plus what the runtime itself takes). */
function memoryLimits(config: Config): string[] {
  const { memoryHigh, memoryMax } = config.service;
  const budget = config.models.memoryBudgetMiB;
  const high = memoryHigh ?? (budget !== undefined ? `${budget + 512}M` : undefined);
  const max = memoryMax ?? (budget !== undefined ? `${Math.ceil((budget + 512) * 1.25)}M` : undefined);
  if (high === undefined && max === undefined) return ["# no memory limit: set service.memoryMax (or models.memoryBudgetMiB) in the configuration"];
  return [...(high ? [`MemoryHigh=${high}`] : []), ...(max ? [`MemoryMax=${max}`] : [])];
}

export function systemdUnit(o: UnitOptions): string {
  const { config } = o;
  const args = [o.node, o.entry, "serve", "--host", config.host, "--port", String(config.port), "--data-dir", config.dataDir, ...(o.configFile ? ["--config", o.configFile] : [])];
  // systemd waits this long after SIGTERM: the daemon's own grace for requests in flight, then closing the stores
  const stopSeconds = Math.ceil(config.shutdownGraceMs / 1000) + 10;
  return [
    "[Unit]",
    "Description=edged: on-device AI runtime (OpenAI, Anthropic and Ollama APIs on this machine)",
    ...(o.user ? [] : ["After=network-online.target", "Wants=network-online.target"]),
    "",
    "[Service]",
    "Type=notify",
    // the readiness message comes from systemd-notify, a child of the daemon
    "NotifyAccess=all",
    `ExecStart=${args.map(quote).join(" ")}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=5s",
    `RestartPreventExitStatus=${EX_CONFIG}`,
    `TimeoutStopSec=${stopSeconds}s`,
    // loading and hashing a large model takes a while before the daemon is ready
    "TimeoutStartSec=15min",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths=${quote(config.dataDir)}`,
    "PrivateTmp=yes",
    ...(o.user ? [] : ["ProtectHome=read-only"]),
    ...memoryLimits(config),
    "",
    "[Install]",
    `WantedBy=${o.user ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n");
}
