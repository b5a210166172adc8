import { LATER_SQLITE_MIGRATIONS } from './later-migrations.js';

/**
 * Forward-only migrations of the SQLite store. Each runs once, in order, inside the same
 * IMMEDIATE transaction as its bookkeeping row, so two processes opening one data directory
 * cannot both apply it.
 */
export const SQLITE_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'core',
    sql: `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  system INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  scope TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE functions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE versions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  function_id TEXT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (function_id, number)
);
CREATE TABLE deployments (
  version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  min_instances INTEGER NOT NULL,
  max_instances INTEGER NOT NULL,
  target_per_instance INTEGER NOT NULL,
  scale_down_delay_s INTEGER NOT NULL,
  scale_to_zero_s INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX deployments_by_function ON deployments (function_id);
CREATE TABLE deployment_events (
  seq INTEGER PRIMARY KEY,
  version_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX deployment_events_by_version ON deployment_events (version_id, seq);
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  gpus TEXT NOT NULL,
  state TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  state TEXT NOT NULL,
  gpus TEXT NOT NULL,
  reason TEXT,
  created_at INTEGER NOT NULL,
  ready_at INTEGER,
  ended_at INTEGER
);
CREATE INDEX instances_by_node ON instances (node_id, state);
CREATE INDEX instances_by_version ON instances (version_id, state);
CREATE TABLE tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  task_type TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  progress REAL NOT NULL DEFAULT 0,
  progress_message TEXT,
  partial_output TEXT,
  attempt INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  lost_attempts INTEGER NOT NULL DEFAULT 0,
  timeout_s INTEGER NOT NULL,
  instance_id TEXT,
  node_id TEXT,
  idempotency_key TEXT,
  request_hash TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  run_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_expires_at INTEGER
);
-- The queue: only queued rows, in claim order. Claims and positions read this index alone.
CREATE INDEX tasks_queue ON tasks (version_id, priority DESC, seq) WHERE status = 'QUEUED';
CREATE INDEX tasks_queue_expiry ON tasks (expires_at) WHERE status = 'QUEUED';
CREATE INDEX tasks_leased_by_instance ON tasks (instance_id) WHERE status IN ('RUNNING', 'CANCELLING');
CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_at) WHERE status IN ('RUNNING', 'CANCELLING');
-- Leased tasks per version, for the autoscaler's running count.
CREATE INDEX tasks_leased_by_version ON tasks (version_id) WHERE status IN ('RUNNING', 'CANCELLING');
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, seq);
CREATE INDEX tasks_by_function ON tasks (function_id, seq);
CREATE INDEX tasks_by_version_status ON tasks (version_id, status);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE task_logs (
  seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  stream TEXT NOT NULL,
  text TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX task_logs_by_task ON task_logs (task_id, seq);
`,
  },
  {
    version: 2,
    name: 'queue blocks',
    // Queued counts per version, priority and block of 1024 task seqs, kept by triggers in the same
    // transaction as every move into or out of QUEUED. A position is the sum of the blocks ahead
    // plus a count inside its own block (at most 1024 index rows), and a version's queue length a
    // sum of its blocks, so neither reads the whole queue: at a million queued they read about a
    // thousand rows, not a million.
    sql: `
CREATE TABLE queue_blocks (
  version_id TEXT NOT NULL,
  priority INTEGER NOT NULL,
  block INTEGER NOT NULL,
  queued INTEGER NOT NULL,
  PRIMARY KEY (version_id, priority, block)
) WITHOUT ROWID;
CREATE TRIGGER queue_blocks_insert AFTER INSERT ON tasks WHEN NEW.status = 'QUEUED' BEGIN
  INSERT INTO queue_blocks VALUES (NEW.version_id, NEW.priority, NEW.seq >> 10, 1)
    ON CONFLICT (version_id, priority, block) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER queue_blocks_leave AFTER UPDATE OF status, priority, version_id ON tasks WHEN OLD.status = 'QUEUED' BEGIN
  UPDATE queue_blocks SET queued = queued - 1 WHERE version_id = OLD.version_id AND priority = OLD.priority AND block = OLD.seq >> 10;
  DELETE FROM queue_blocks WHERE version_id = OLD.version_id AND priority = OLD.priority AND block = OLD.seq >> 10 AND queued = 0;
END;
CREATE TRIGGER queue_blocks_enter AFTER UPDATE OF status, priority, version_id ON tasks WHEN NEW.status = 'QUEUED' BEGIN
  INSERT INTO queue_blocks VALUES (NEW.version_id, NEW.priority, NEW.seq >> 10, 1)
    ON CONFLICT (version_id, priority, block) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER queue_blocks_delete AFTER DELETE ON tasks WHEN OLD.status = 'QUEUED' BEGIN
  UPDATE queue_blocks SET queued = queued - 1 WHERE version_id = OLD.version_id AND priority = OLD.priority AND block = OLD.seq >> 10;
  DELETE FROM queue_blocks WHERE version_id = OLD.version_id AND priority = OLD.priority AND block = OLD.seq >> 10 AND queued = 0;
END;
INSERT INTO queue_blocks
  SELECT version_id, priority, seq >> 10, count(*) FROM tasks WHERE status = 'QUEUED' GROUP BY version_id, priority, seq >> 10;
`,
  },
  {
    version: 3,
    name: 'load samples',
    // What the autoscaler saw, a row every few seconds per serving deployment, for its timeline;
    // the leader prunes rows older than a day.
    sql: `
CREATE TABLE load_samples (
  version_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  queued INTEGER NOT NULL,
  running INTEGER NOT NULL,
  instances INTEGER NOT NULL,
  desired INTEGER NOT NULL
);
CREATE INDEX load_samples_by_version ON load_samples (version_id, at);
CREATE INDEX load_samples_by_age ON load_samples (at);
`,
  },
  {
    version: 4,
    name: 'outcome feed',
    // One row per ended attempt, written in the transaction of the move (task-transitions.ts).
    // Writes take the database's one write lock, so seqs become visible in the order they are
    // drawn. No index but the rowid: the row is written on every attempt's end, and reads and
    // prunes go in seq order (pruning always keeps the newest row, so a seq is never drawn twice).
    sql: `
CREATE TABLE task_outcomes (
  seq INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  at INTEGER NOT NULL
);
CREATE TABLE feed_consumers (
  name TEXT PRIMARY KEY,
  after_seq INTEGER NOT NULL,
  acked_at INTEGER
);
`,
  },
  {
    version: 5,
    name: 'assets',
    // An asset's record (its bytes are in the blob store); the tasks that hold an input asset, so
    // a delete can tell whether a live one does; secrets every replica shares (the URL signing key).
    sql: `
CREATE TABLE assets (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  status TEXT NOT NULL,
  content_type TEXT NOT NULL,
  description TEXT NOT NULL,
  size_bytes INTEGER,
  sha256 TEXT,
  task_id TEXT,
  name TEXT,
  pinned INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  ready_at INTEGER,
  expires_at INTEGER NOT NULL
);
CREATE INDEX assets_by_tenant ON assets (tenant_id, seq);
CREATE INDEX assets_by_task ON assets (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX assets_by_expiry ON assets (expires_at) WHERE pinned = 0;
CREATE TABLE task_input_assets (
  asset_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  PRIMARY KEY (asset_id, task_id)
) WITHOUT ROWID;
-- A task's input assets (a JSON array; NULL for none), each held through task_input_assets.
ALTER TABLE tasks ADD COLUMN input_assets TEXT;
-- The MIME type of a server-mode response kept as given (output is then its text); NULL: output is JSON.
ALTER TABLE tasks ADD COLUMN output_type TEXT;
-- The files the attempt that succeeded left, as assets (a JSON array), and the one that is the output itself.
ALTER TABLE tasks ADD COLUMN output_assets TEXT;
ALTER TABLE tasks ADD COLUMN output_asset TEXT;
CREATE TRIGGER task_input_assets_hold AFTER INSERT ON tasks WHEN NEW.input_assets IS NOT NULL BEGIN
  INSERT OR IGNORE INTO task_input_assets SELECT value, NEW.id FROM json_each(NEW.input_assets);
END;
CREATE TABLE store_secrets (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
`,
  },
  {
    version: 6,
    name: 'triggers',
    // A trigger's kind-specific part (schedule, broker source, secret, asset filter) is one JSON
    // column: it is read whole, never queried into. A fire is unique per event, so an event
    // reported twice counts once.
    sql: `
CREATE TABLE triggers (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  function_id TEXT NOT NULL,
  version_id TEXT,
  kind TEXT NOT NULL,
  config TEXT NOT NULL,
  task TEXT NOT NULL,
  destinations TEXT,
  state TEXT NOT NULL,
  last_fired_at INTEGER,
  last_error TEXT,
  fired INTEGER NOT NULL,
  cursor TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE trigger_fires (
  seq INTEGER PRIMARY KEY,
  trigger_id TEXT NOT NULL,
  event_key TEXT NOT NULL,
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (trigger_id, event_key)
);
CREATE INDEX trigger_fires_by_trigger ON trigger_fires (trigger_id, seq);
`,
  },
  {
    version: 7,
    name: 'destinations',
    // A task's own destinations; the deliveries its end sends (one per final outcome that has a
    // destination, under an id made of the outcome's, so a redelivered outcome adds none), and
    // each attempt of each. Due deliveries are read by the partial index on their next attempt.
    // (And the index asset triggers read READY assets by.)
    sql: `
ALTER TABLE tasks ADD COLUMN destinations TEXT;
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  event TEXT NOT NULL,
  kind TEXT NOT NULL,
  destination TEXT NOT NULL,
  payload TEXT NOT NULL,
  depth INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER,
  deadline INTEGER NOT NULL,
  last_error TEXT,
  last_status_code INTEGER,
  result_task_id TEXT,
  created_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX deliveries_by_task ON deliveries (task_id);
CREATE INDEX deliveries_by_result ON deliveries (result_task_id) WHERE result_task_id IS NOT NULL;
CREATE TABLE delivery_attempts (
  seq INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, seq);
-- Asset triggers read a tenant's assets in the order they became READY.
CREATE INDEX assets_by_ready ON assets (tenant_id, ready_at, id) WHERE status = 'READY';
`,
  },
  ...LATER_SQLITE_MIGRATIONS,
];
