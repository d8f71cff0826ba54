/** Plain-text tables with aligned columns, for results on a terminal (benchmarks, evaluations). */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** Numbers read best right-aligned; text left-aligned. Defaults to right. */
  align?: "left" | "right";
}

export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i]!.align === "left" ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

/** Fixed decimals, or "-" for a missing or non-finite value, so a table never shows "NaN". */
export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}
