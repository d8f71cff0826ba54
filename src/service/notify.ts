/**
 * Readiness for systemd's Type=notify. Node has no unix datagram sockets, and a native module for one message
 * would be a dependency to build on every platform, so the message goes through systemd's own systemd-notify
 * (present wherever systemd is; the unit allows messages from the daemon's children with NotifyAccess=all).
 */
import { execFile } from "node:child_process";

/** Sends `fields` (e.g. READY=1) when systemd asked for notifications (NOTIFY_SOCKET); reports a failure through `log`. */
export function notifySystemd(fields: string[], log: (message: string) => void): Promise<void> {
  if (!process.env.NOTIFY_SOCKET) return Promise.resolve();
  return new Promise((resolve) =>
    execFile("systemd-notify", [`--pid=${process.pid}`, ...fields], (error, _stdout, stderr) => {
      if (error) log(`systemd-notify ${fields.join(" ")} failed: ${stderr.trim() || error.message}`);
      resolve();
    }),
  );
}
