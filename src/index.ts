/** edged as a library: the daemon in a process of your own, and its configuration. */
export { startDaemon, type Daemon, type DaemonOptions, type Log } from "./daemon.js";
export { loadConfig, ConfigError } from "./config/load.js";
export { Config, type ConfigInput } from "./config/schema.js";
