/** The memory database, version by version (applied by src/db/open.ts). */
export const MEMORY_MIGRATIONS = [
  `
  CREATE TABLE items (
    key INTEGER PRIMARY KEY,      -- stable row number, shared with the keyword index
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    subject TEXT NOT NULL,
    content TEXT,                 -- NULL once forgotten
    metadata TEXT NOT NULL,       -- JSON object
    embedding BLOB,               -- int8, L2-normalized x 127
    salt BLOB NOT NULL,           -- per item, so content hashes cannot be looked up in a table of common texts
    content_hash BLOB NOT NULL,   -- sha256 (32 bytes); hashes are hex only outside the database
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    forgotten_at INTEGER
  );
  CREATE INDEX items_scope ON items (namespace, subject);
  CREATE INDEX items_subject ON items (subject);
  CREATE INDEX items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL AND forgotten_at IS NULL;

  CREATE TABLE versions (
    item_id TEXT NOT NULL REFERENCES items (id),
    version INTEGER NOT NULL,
    op TEXT NOT NULL,             -- create | update | rollback | forget
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    content TEXT,                 -- NULL once forgotten
    metadata TEXT,
    expires_at INTEGER,
    content_hash BLOB NOT NULL,
    PRIMARY KEY (item_id, version)
  );

  -- external-content FTS5 over items (no third copy of the text) with its secure-delete option: a forgotten
  -- item's terms leave the index at once. (A contentless table keeps a deleted row's terms in the index: the
  -- raw-bytes test of forgetting finds them.)
  CREATE VIRTUAL TABLE items_fts USING fts5 (content, content = 'items', content_rowid = 'key', tokenize = 'porter unicode61');

  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    op TEXT NOT NULL,
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash BLOB NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
  );
  `,
  `
  -- One copy of the text: the current version's content and metadata are read from its item (a version row
  -- gets them when it is superseded); the versions table is keyed by (item, version) without a second index.
  CREATE TABLE versions_by_item (
    item_id TEXT NOT NULL REFERENCES items (id),
    version INTEGER NOT NULL,
    op TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    content TEXT,                 -- NULL while current (see items) and once forgotten
    metadata TEXT,
    expires_at INTEGER,
    content_hash BLOB NOT NULL,
    PRIMARY KEY (item_id, version)
  ) WITHOUT ROWID;
  INSERT INTO versions_by_item
    SELECT v.item_id, v.version, v.op, v.actor, v.reason, v.at,
           IIF(v.version = i.version, NULL, v.content), IIF(v.version = i.version, NULL, v.metadata), v.expires_at, v.content_hash
    FROM versions v JOIN items i ON i.id = v.item_id;
  DROP TABLE versions;
  ALTER TABLE versions_by_item RENAME TO versions;

  -- an entry's previous hash is the previous row's hash: not stored twice
  ALTER TABLE audit DROP COLUMN prev_hash;
  `,
];
