/** A one-line progress display on stderr: redrawn in place on a terminal, one line per step otherwise. */
export function progressLine(label: string): { update(done: number, total: number, detail?: string): void; end(): void } {
  const tty = process.stderr.isTTY;
  let last = "";
  return {
    update(done, total, detail = "") {
      const width = 24;
      const filled = Math.round((done / Math.max(total, 1)) * width);
      const line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${detail}`;
      if (line === last) return;
      last = line;
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    end() {
      if (tty && last) process.stderr.write("\n");
    },
  };
}
