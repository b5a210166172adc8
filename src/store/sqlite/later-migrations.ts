/**
 * The SQLite migrations after the seventh (see migrations.ts for the rules they follow), in a file
 * of their own so that neither file grows past reading.
 */
export const LATER_SQLITE_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 8,
    name: 'workflows',
    // Workflows with numbered versions; executions with the interpreter's state (saved against
    // its revision), the task of each step key (one ever), timers by due time, the history, where
    // an entry made from an outcome is stored once (its event id), and a Map's items read from an
    // asset (in pages) and its results kept for its ResultWriter, both until the execution ends.
    // A trigger starts a function's task or a workflow's execution, and so does a delivery:
    // triggers.function_id loses its NOT NULL (SQLite does that by rebuilding the table).
    // (And API keys get a shown prefix, an expiry, a revocation time and a last use; changes are
    // kept in the audit log, read per tenant newest first and pruned by time.)
    sql: `
CREATE TABLE triggers_next (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  function_id TEXT,
  workflow_id TEXT,
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
INSERT INTO triggers_next (seq, id, tenant_id, name, function_id, version_id, kind, config, task, destinations, state, last_fired_at, last_error, fired, cursor, created_at, updated_at)
  SELECT seq, id, tenant_id, name, function_id, version_id, kind, config, task, destinations, state, last_fired_at, last_error, fired, cursor, created_at, updated_at FROM triggers;
DROP TABLE triggers;
ALTER TABLE triggers_next RENAME TO triggers;
ALTER TABLE deliveries ADD COLUMN result_execution_id TEXT;
ALTER TABLE tenants ADD COLUMN quotas TEXT NOT NULL DEFAULT '{}';
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
CREATE INDEX deliveries_by_result_execution ON deliveries (result_execution_id) WHERE result_execution_id IS NOT NULL;
CREATE TABLE workflows (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  latest_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE workflow_versions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (workflow_id, number)
);
CREATE TABLE executions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  state TEXT NOT NULL,
  rev INTEGER NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT,
  steps_done INTEGER NOT NULL,
  timeout_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE UNIQUE INDEX executions_by_key ON executions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_by_tenant ON executions (tenant_id, seq);
CREATE INDEX executions_by_workflow ON executions (workflow_id, status);
CREATE TABLE execution_tasks (
  seq INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  task_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (execution_id, key)
);
CREATE INDEX execution_tasks_in_order ON execution_tasks (execution_id, seq);
CREATE INDEX execution_tasks_by_task ON execution_tasks (task_id);
CREATE TABLE execution_timers (
  execution_id TEXT NOT NULL,
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (execution_id, key)
);
CREATE INDEX execution_timers_by_time ON execution_timers (at);
CREATE TABLE execution_history (
  seq INTEGER PRIMARY KEY,
  execution_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  key TEXT,
  state TEXT,
  task_id TEXT,
  detail TEXT,
  event_id TEXT
);
CREATE INDEX execution_history_by_execution ON execution_history (execution_id, seq);
CREATE UNIQUE INDEX execution_history_events ON execution_history (execution_id, event_id) WHERE event_id IS NOT NULL;
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  key_id TEXT,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  source TEXT NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE TABLE execution_item_pages (
  execution_id TEXT NOT NULL,
  key TEXT NOT NULL,
  page INTEGER NOT NULL,
  items TEXT NOT NULL,
  PRIMARY KEY (execution_id, key, page)
);
CREATE TABLE execution_results (
  execution_id TEXT NOT NULL,
  key TEXT NOT NULL,
  idx INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (execution_id, key, idx)
);
`,
  },
];
