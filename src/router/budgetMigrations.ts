/** The cloud token budget database, version by version (applied by src/db/open.ts). */
export const BUDGET_MIGRATIONS = [
  `
  CREATE TABLE cloud_usage (
    key_id TEXT NOT NULL,        -- sha256 (hex) of the caller's API key, or 'anonymous'; never the key itself
    hour INTEGER NOT NULL,       -- hours since the epoch (UTC)
    tokens INTEGER NOT NULL,
    PRIMARY KEY (key_id, hour)
  ) WITHOUT ROWID;
  CREATE INDEX cloud_usage_hour ON cloud_usage (hour);
  `,
];
