/**
 * The latest routing records (the request log's `route` lines) kept in memory for GET /v1/requests, so a person
 * can see recent decisions without reading the log file. A fixed number are kept: the oldest go first.
 */
export type RouteRecord = Record<string, unknown> & { at: string };

export class RecentRoutes {
  private readonly records: RouteRecord[] = [];
  private next = 0;

  constructor(readonly capacity = 200) {}

  push(record: RouteRecord): void {
    if (this.records.length < this.capacity) this.records.push(record);
    else this.records[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  latest(limit: number): RouteRecord[] {
    const ordered = [...this.records.slice(this.next), ...this.records.slice(0, this.next)];
    return ordered.reverse().slice(0, limit);
  }
}
