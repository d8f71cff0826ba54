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

/** Progress of reading a file, in MiB and at most every percent (a line per 10 % when not on a terminal). */
export function hashProgress(label: string): (done: number, total: number) => void {
  const line = progressLine(label);
  const step = process.stderr.isTTY ? 1 : 10;
  let shown = -1;
  return (done, total) => {
    const percent = Math.floor((done / Math.max(total, 1)) * 100);
    if (percent < shown + step && done < total) return;
    shown = percent;
    line.update(Math.round(done / 2 ** 20), Math.round(total / 2 ** 20), "MiB");
    if (done >= total) line.end();
  };
}
