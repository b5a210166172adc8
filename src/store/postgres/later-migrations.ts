/**
 * The PostgreSQL migrations after the sixth (see migrations.ts for the rules they follow), in a
 * file of their own so that neither file grows past reading.
 */

/** Migration 7: the tables of SQLite migration 6 (triggers and their fires), translated. */
const TRIGGERS_SQL = `
CREATE TABLE triggers (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL,
  version_id TEXT COLLATE "C",
  kind TEXT NOT NULL,
  config TEXT NOT NULL,
  task TEXT NOT NULL,
  destinations TEXT,
  state TEXT NOT NULL,
  last_fired_at BIGINT,
  last_error TEXT,
  fired BIGINT NOT NULL,
  cursor TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT triggers_name_unique UNIQUE (tenant_id, name)
);
CREATE TABLE trigger_fires (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trigger_id TEXT COLLATE "C" NOT NULL,
  event_key TEXT NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (trigger_id, event_key)
);
CREATE INDEX trigger_fires_by_trigger ON trigger_fires (trigger_id, seq);
`;

/** Migration 8: SQLite migration 7 (a task's destinations, deliveries and their attempts; READY assets in order), translated. */
const DESTINATIONS_SQL = `
ALTER TABLE tasks ADD COLUMN destinations TEXT;
CREATE TABLE deliveries (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  event TEXT NOT NULL,
  kind TEXT NOT NULL,
  destination TEXT NOT NULL,
  payload TEXT NOT NULL,
  depth INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at BIGINT,
  deadline BIGINT NOT NULL,
  last_error TEXT,
  last_status_code INTEGER,
  result_task_id TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX deliveries_by_task ON deliveries (task_id);
CREATE INDEX deliveries_by_result ON deliveries (result_task_id) WHERE result_task_id IS NOT NULL;
CREATE TABLE delivery_attempts (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, seq);
CREATE INDEX assets_by_ready ON assets (tenant_id, ready_at, id) WHERE status = 'READY';
`;

/** Migration 9: SQLite migration 8 (workflows, their versions, executions, their tasks, timers, history, Map item pages and results; triggers and deliveries that start workflows; API keys' prefix, expiry, revocation and last use; the audit log), translated. */
const WORKFLOWS_SQL = `
ALTER TABLE triggers ALTER COLUMN function_id DROP NOT NULL;
ALTER TABLE triggers ADD COLUMN workflow_id TEXT COLLATE "C";
ALTER TABLE deliveries ADD COLUMN result_execution_id TEXT COLLATE "C";
ALTER TABLE tenants ADD COLUMN quotas TEXT NOT NULL DEFAULT '{}';
ALTER TABLE api_keys ADD COLUMN prefix TEXT, ADD COLUMN expires_at BIGINT, ADD COLUMN revoked_at BIGINT, ADD COLUMN last_used_at BIGINT;
CREATE INDEX deliveries_by_result_execution ON deliveries (result_execution_id) WHERE result_execution_id IS NOT NULL;
CREATE TABLE workflows (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  latest_version INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT workflows_name_unique UNIQUE (tenant_id, name)
);
CREATE TABLE workflow_versions (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL,
  workflow_id TEXT COLLATE "C" NOT NULL,
  number INTEGER NOT NULL,
  definition TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (workflow_id, number)
);
CREATE TABLE executions (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  workflow_id TEXT COLLATE "C" NOT NULL,
  version_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  state TEXT NOT NULL,
  rev INTEGER NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT,
  steps_done INTEGER NOT NULL,
  timeout_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE UNIQUE INDEX executions_by_key ON executions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_by_tenant ON executions (tenant_id, seq);
CREATE INDEX executions_by_workflow ON executions (workflow_id, status);
CREATE TABLE execution_tasks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (execution_id, key)
);
CREATE INDEX execution_tasks_in_order ON execution_tasks (execution_id, seq);
CREATE INDEX execution_tasks_by_task ON execution_tasks (task_id);
CREATE TABLE execution_timers (
  execution_id TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (execution_id, key)
);
CREATE INDEX execution_timers_by_time ON execution_timers (at);
CREATE TABLE execution_history (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
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
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  key_id TEXT COLLATE "C",
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  source TEXT NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE TABLE execution_item_pages (
  execution_id TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  page INTEGER NOT NULL,
  items TEXT NOT NULL,
  PRIMARY KEY (execution_id, key, page)
);
CREATE TABLE execution_results (
  execution_id TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  idx INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (execution_id, key, idx)
);
`;

export const LATER_POSTGRES_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 7, name: 'triggers', sql: TRIGGERS_SQL },
  { version: 8, name: 'destinations', sql: DESTINATIONS_SQL },
  { version: 9, name: 'workflows', sql: WORKFLOWS_SQL },
];
