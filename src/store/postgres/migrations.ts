import type pg from 'pg';
import { type Sql, transaction } from './connection.js';
import { LATER_POSTGRES_MIGRATIONS } from './later-migrations.js';

/** Migration 1: the tables and indexes of SQLite migration 1, translated. */
const CORE_SQL = `
CREATE TABLE tenants (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  system BOOLEAN NOT NULL DEFAULT false,
  created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  scope TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE TABLE functions (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  CONSTRAINT functions_name_unique UNIQUE (tenant_id, name)
);
CREATE TABLE versions (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  spec TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (function_id, number)
);
CREATE TABLE deployments (
  version_id TEXT COLLATE "C" PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  min_instances INTEGER NOT NULL,
  max_instances INTEGER NOT NULL,
  target_per_instance INTEGER NOT NULL,
  scale_down_delay_s INTEGER NOT NULL,
  scale_to_zero_s INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX deployments_by_function ON deployments (function_id);
CREATE TABLE deployment_events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX deployment_events_by_version ON deployment_events (version_id, seq);
CREATE TABLE nodes (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  gpus TEXT NOT NULL,
  state TEXT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE instances (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL,
  version_id TEXT COLLATE "C" NOT NULL,
  node_id TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL,
  gpus TEXT NOT NULL,
  reason TEXT,
  created_at BIGINT NOT NULL,
  ready_at BIGINT,
  ended_at BIGINT
);
CREATE INDEX instances_by_node ON instances (node_id, state);
CREATE INDEX instances_by_version ON instances (version_id, state);
CREATE TABLE tasks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL,
  version_id TEXT COLLATE "C" NOT NULL,
  task_type TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  progress_message TEXT,
  partial_output TEXT,
  attempt INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  lost_attempts INTEGER NOT NULL DEFAULT 0,
  timeout_s INTEGER NOT NULL,
  instance_id TEXT COLLATE "C",
  node_id TEXT COLLATE "C",
  idempotency_key TEXT,
  request_hash TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  run_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  lease_expires_at BIGINT
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
-- Not over queued rows: a query for a version's queued tasks must only ever find tasks_queue, whose
-- order bounds claims and positions. With this index over every status, a planner whose statistics
-- lagged a fast-growing queue (no ANALYZE yet) chose it and counted or sorted the whole queue.
CREATE INDEX tasks_by_version_status ON tasks (version_id, status) WHERE status <> 'QUEUED';
CREATE UNIQUE INDEX tasks_idempotency ON tasks (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE task_logs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id TEXT COLLATE "C" NOT NULL,
  attempt INTEGER NOT NULL,
  stream TEXT NOT NULL,
  text TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX task_logs_by_task ON task_logs (task_id, seq);
`;

/**
 * Queued counts per version, priority, block of 1024 task seqs and stripe, kept by triggers in the
 * same transaction as every move into or out of QUEUED (as SQLite migration 2). A position is the
 * sum of the blocks ahead plus a count inside its own block (at most 1024 index rows), and a
 * version's queue length a sum of its blocks, so neither reads the whole queue.
 *
 * Unlike SQLite, PostgreSQL runs writers side by side, and a counter row stays locked from the
 * write that touches it until its transaction commits (WAL flush included). With one row per block,
 * every concurrent enqueue of a version queues behind the same row lock; the stripe (seq % 8, in
 * `queue_stripe`) spreads consecutive tasks over 8 rows so they commit side by side. Measured by
 * enqueue-contention.bench.ts (50 concurrent enqueues, against the same run without the triggers):
 * one row per block cost 61-70% of the throughput, 8 stripes 17-27%, 16 stripes 19%. The price is
 * on the read side: a position or a queue length sums 8 times as many counter rows (a position at
 * 200,000 queued: 1.4 ms against 0.75 ms).
 *
 * An enqueue changes one counter (a row trigger). Every other move into or out of the queue (claims
 * of many tasks, re-queues, cancels, expiry) is summed per statement from its transition tables
 * and applied in key order, so statements always lock counter rows in the same order and cannot
 * deadlock on them; see claim_tasks for how an enqueue that claims keeps to that order. Updates that
 * do not touch the queue (leases, progress, results) leave after two EXISTS checks, ~20 µs, where
 * the full trigger would cost ~60 µs each. A counter that reaches 0 is deleted, so finished history
 * costs nothing.
 */
const QUEUE_BLOCKS_SQL = `
CREATE TABLE queue_blocks (
  version_id TEXT COLLATE "C" NOT NULL,
  priority INTEGER NOT NULL,
  block BIGINT NOT NULL,
  stripe INTEGER NOT NULL,
  queued INTEGER NOT NULL,
  PRIMARY KEY (version_id, priority, block, stripe)
);
CREATE FUNCTION queue_stripe(seq BIGINT) RETURNS INTEGER LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT (seq % 8)::integer';
CREATE FUNCTION queue_blocks_enter() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO queue_blocks AS b VALUES (NEW.version_id, NEW.priority, NEW.seq >> 10, queue_stripe(NEW.seq), 1)
    ON CONFLICT (version_id, priority, block, stripe) DO UPDATE SET queued = b.queued + 1;
  RETURN NULL;
END $$;
CREATE FUNCTION queue_blocks_update() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  left_queue BOOLEAN := EXISTS (SELECT FROM old_rows WHERE status = 'QUEUED');
BEGIN
  -- Most updates (leases, progress, results) neither leave nor enter the queue.
  IF NOT left_queue AND NOT EXISTS (SELECT FROM new_rows WHERE status = 'QUEUED') THEN
    RETURN NULL;
  END IF;
  INSERT INTO queue_blocks AS b
    SELECT d.version_id, d.priority, d.block, d.stripe, sum(d.delta)::integer FROM (
      SELECT o.version_id, o.priority, o.seq >> 10 AS block, queue_stripe(o.seq) AS stripe, -1 AS delta FROM old_rows o WHERE o.status = 'QUEUED'
      UNION ALL
      SELECT n.version_id, n.priority, n.seq >> 10, queue_stripe(n.seq), 1 FROM new_rows n WHERE n.status = 'QUEUED'
    ) d
    GROUP BY 1, 2, 3, 4 HAVING sum(d.delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (version_id, priority, block, stripe) DO UPDATE SET queued = b.queued + excluded.queued;
  IF left_queue THEN
    DELETE FROM queue_blocks b USING (
      SELECT DISTINCT o.version_id, o.priority, o.seq >> 10 AS block, queue_stripe(o.seq) AS stripe FROM old_rows o WHERE o.status = 'QUEUED'
    ) o
    WHERE b.version_id = o.version_id AND b.priority = o.priority AND b.block = o.block AND b.stripe = o.stripe AND b.queued = 0;
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION queue_blocks_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO queue_blocks AS b
    SELECT o.version_id, o.priority, o.seq >> 10, queue_stripe(o.seq), -count(*)::integer FROM old_rows o WHERE o.status = 'QUEUED'
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (version_id, priority, block, stripe) DO UPDATE SET queued = b.queued + excluded.queued;
  DELETE FROM queue_blocks b USING (
    SELECT DISTINCT o.version_id, o.priority, o.seq >> 10 AS block, queue_stripe(o.seq) AS stripe FROM old_rows o WHERE o.status = 'QUEUED'
  ) o
  WHERE b.version_id = o.version_id AND b.priority = o.priority AND b.block = o.block AND b.stripe = o.stripe AND b.queued = 0;
  RETURN NULL;
END $$;
CREATE TRIGGER queue_blocks_insert AFTER INSERT ON tasks FOR EACH ROW WHEN (NEW.status = 'QUEUED') EXECUTE FUNCTION queue_blocks_enter();
CREATE TRIGGER queue_blocks_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION queue_blocks_update();
CREATE TRIGGER queue_blocks_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION queue_blocks_delete();
INSERT INTO queue_blocks
  SELECT version_id, priority, seq >> 10, queue_stripe(seq), count(*) FROM tasks WHERE status = 'QUEUED' GROUP BY 1, 2, 3, 4;
`;

/**
 * The claim, and the enqueue that claims, as functions, so each is one round trip and one commit
 * (see statements.ts for the figures). `claim_tasks` is the only definition of a claim: claimTasks,
 * an enqueue that claims and a completion that claims all call it.
 *
 * A claim leases the first `limit` runnable queued tasks of the instance's version, in claim order
 * (priority, then seq), if the instance is IDLE. The version is a scalar subquery, not a join, so
 * the planner walks the tasks_queue index for that one version in order and stops after `limit`
 * rows instead of sorting the whole queue. FOR UPDATE SKIP LOCKED makes concurrent claimers on any
 * number of replicas step over each other's rows instead of waiting or taking the same task.
 * The leased rows are matched with `seq = ANY(ARRAY(...))` rather than joined to the picked rows:
 * the join became a hash join over a sequential scan of all tasks whenever the planner misjudged
 * the LIMIT, and the array form plans faster too. Plans stay with PostgreSQL's plan cache, which
 * plans this one afresh per call (~0.1 ms): pinning a generic plan saved that but froze the first
 * plan made, and one made while `tasks` was empty scanned the whole table on every claim (1.7 ms
 * at 20,000 tasks, against 0.55 ms) until the next ANALYZE.
 *
 * `p_entering` is a task the caller has just inserted as ENTERING (a status never committed): it
 * competes for the claim like a queued task and leaves as RUNNING or QUEUED in the same UPDATE.
 * That is how an enqueue claims without deadlocking: inserted as QUEUED, it would lock its queue
 * counter (migration 2) before the claim locks the others in key order, and two such transactions
 * could each hold what the other waits for (seen under load: 2 deadlocks in 1,800 mixed operations,
 * each stalling a second). With one UPDATE, all counter changes land in one sorted batch.
 *
 * An enqueue inserts the task unless its idempotency key is taken (ON CONFLICT waits for a
 * concurrent insert of the same key to commit, then returns that task), and then claims: each
 * statement of a function sees the rows its earlier statements wrote.
 */
const HOT_FUNCTIONS_SQL = `
CREATE FUNCTION claim_tasks(p_instance_id TEXT, p_limit INTEGER, p_now BIGINT, p_lease_until BIGINT, p_entering BIGINT DEFAULT NULL)
RETURNS SETOF tasks LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  RETURN QUERY
  WITH inst AS MATERIALIZED (
    SELECT i.version_id, i.node_id FROM instances i WHERE i.id = p_instance_id AND i.state = 'IDLE'
  ), picked AS MATERIALIZED (
    SELECT ARRAY(
      SELECT c.seq FROM (
        SELECT q.seq, q.priority FROM (
          SELECT q.seq, q.priority FROM tasks q
          WHERE q.version_id = (SELECT version_id FROM inst) AND q.status = 'QUEUED' AND q.run_at <= p_now
          ORDER BY q.priority DESC, q.seq
          LIMIT p_limit
          FOR UPDATE OF q SKIP LOCKED
        ) q
        UNION ALL
        SELECT e.seq, e.priority FROM tasks e
        WHERE e.seq = p_entering AND e.version_id = (SELECT version_id FROM inst) AND e.run_at <= p_now
      ) c
      ORDER BY c.priority DESC, c.seq
      LIMIT p_limit
    ) AS seqs
  )
  UPDATE tasks t SET
    status = CASE WHEN t.seq = ANY(picked.seqs) THEN 'RUNNING' ELSE 'QUEUED' END,
    instance_id = CASE WHEN t.seq = ANY(picked.seqs) THEN p_instance_id END,
    node_id = CASE WHEN t.seq = ANY(picked.seqs) THEN (SELECT node_id FROM inst) END,
    started_at = CASE WHEN t.seq = ANY(picked.seqs) THEN p_now END,
    lease_expires_at = CASE WHEN t.seq = ANY(picked.seqs) THEN p_lease_until END
  FROM picked
  WHERE t.seq = ANY(picked.seqs) OR t.seq = p_entering
  RETURNING t.*;
END $$;
CREATE FUNCTION enqueue_and_claim(
  p_id TEXT, p_tenant_id TEXT, p_function_id TEXT, p_version_id TEXT, p_task_type TEXT, p_priority INTEGER, p_input TEXT,
  p_attempt INTEGER, p_max_attempts INTEGER, p_timeout_s INTEGER, p_idempotency_key TEXT, p_request_hash TEXT,
  p_created_at BIGINT, p_run_at BIGINT, p_expires_at BIGINT,
  p_instance_id TEXT, p_limit INTEGER, p_now BIGINT, p_lease_until BIGINT)
RETURNS TABLE (tag TEXT, task tasks) LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_seq BIGINT;
BEGIN
  INSERT INTO tasks (id, tenant_id, function_id, version_id, task_type, status, priority, input, attempt, max_attempts,
    timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at)
  VALUES (p_id, p_tenant_id, p_function_id, p_version_id, p_task_type, 'ENTERING', p_priority, p_input, p_attempt, p_max_attempts,
    p_timeout_s, p_idempotency_key, p_request_hash, p_created_at, p_run_at, p_expires_at)
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING seq INTO v_seq;
  IF v_seq IS NULL THEN
    RETURN QUERY SELECT 'earlier'::text, e FROM tasks e WHERE e.tenant_id = p_tenant_id AND e.idempotency_key = p_idempotency_key;
    RETURN;
  END IF;
  -- The new task itself is sent back only if claimed: the caller has it, and its input may be megabytes.
  RETURN QUERY SELECT 'created'::text, NULL::tasks;
  RETURN QUERY SELECT 'claimed'::text, c FROM claim_tasks(p_instance_id, p_limit, p_now, p_lease_until, v_seq) c WHERE c.status = 'RUNNING';
END $$;
`;

/** What the autoscaler saw, a row every few seconds per serving deployment; the leader prunes rows older than a day. */
const LOAD_SAMPLES_SQL = `
CREATE TABLE load_samples (
  version_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL,
  queued INTEGER NOT NULL,
  running INTEGER NOT NULL,
  instances INTEGER NOT NULL,
  desired INTEGER NOT NULL
);
CREATE INDEX load_samples_by_version ON load_samples (version_id, at);
CREATE INDEX load_samples_by_age ON load_samples (at);
`;

/**
 * The outcome feed (outcome-feed.ts): a row per ended attempt, written in the statement of the move
 * (task-transitions.ts), with the writing transaction's id for the feed's order; seq orders the
 * rows of one transaction. One index, in feed order: the row is written on every attempt's end,
 * and reads and prunes go in that order.
 */
const OUTCOME_FEED_SQL = `
CREATE TABLE task_outcomes (
  task_id TEXT COLLATE "C" NOT NULL,
  attempt INTEGER NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id TEXT COLLATE "C" NOT NULL,
  function_id TEXT COLLATE "C" NOT NULL,
  version_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  at BIGINT NOT NULL
);
CREATE INDEX task_outcomes_in_feed_order ON task_outcomes (txid, seq);
CREATE TABLE feed_consumers (
  name TEXT PRIMARY KEY,
  after_txid xid8 NOT NULL DEFAULT '0',
  after_seq BIGINT NOT NULL DEFAULT 0,
  acked_at BIGINT
);
`;

/** Assets' records, the tasks holding input assets, and secrets every replica shares (see the SQLite migration 5). */
const ASSETS_SQL = `
CREATE TABLE assets (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  content_type TEXT NOT NULL,
  description TEXT NOT NULL,
  size_bytes BIGINT,
  sha256 TEXT,
  task_id TEXT COLLATE "C",
  name TEXT,
  pinned BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  ready_at BIGINT,
  expires_at BIGINT NOT NULL
);
CREATE INDEX assets_by_tenant ON assets (tenant_id, seq);
CREATE INDEX assets_by_task ON assets (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX assets_by_expiry ON assets (expires_at) WHERE NOT pinned;
CREATE TABLE task_input_assets (
  asset_id TEXT COLLATE "C" NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (asset_id, task_id)
);
CREATE TABLE store_secrets (
  name TEXT PRIMARY KEY,
  value BYTEA NOT NULL
);
-- A task's input assets (a JSON array; NULL for none), each held through task_input_assets.
ALTER TABLE tasks ADD COLUMN input_assets TEXT;
-- The MIME type of a server-mode response kept as given (output is then its text); NULL: output is JSON.
ALTER TABLE tasks ADD COLUMN output_type TEXT;
-- The files the attempt that succeeded left, as assets (a JSON array), and the one that is the output itself.
ALTER TABLE tasks ADD COLUMN output_assets TEXT;
ALTER TABLE tasks ADD COLUMN output_asset TEXT;
CREATE FUNCTION task_input_assets_hold() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO task_input_assets SELECT a, NEW.id FROM json_array_elements_text(NEW.input_assets::json) a ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER task_input_assets_hold AFTER INSERT ON tasks FOR EACH ROW WHEN (NEW.input_assets IS NOT NULL) EXECUTE FUNCTION task_input_assets_hold();
`;

/**
 * Forward-only migrations of the PostgreSQL store, applied in order and recorded in
 * `schema_migrations`. Never edit one that has shipped; add the next. Identifiers (ids, foreign
 * ids) use the "C" collation so they sort byte-wise as in SQLite whatever the database's locale,
 * which keeps cursor pages in the same order on both adapters. JSON is TEXT, not JSONB: nothing
 * queries inside it, TEXT stores what the SQLite adapter stores byte for byte (JSONB reorders keys
 * and refuses "\u0000" in strings), and it skips a parse of inputs up to 5 MB on every enqueue.
 * Functions that name tables pin the search_path they were created with (the store's schema), so
 * a trigger fired by someone else's session, say an operator's `DELETE FROM ferry.tasks`, still
 * updates this schema's counters (pinning cost nothing measurable per call).
 */
export const POSTGRES_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'core', sql: CORE_SQL },
  { version: 2, name: 'queue blocks', sql: QUEUE_BLOCKS_SQL },
  { version: 3, name: 'claim functions', sql: HOT_FUNCTIONS_SQL },
  { version: 4, name: 'load samples', sql: LOAD_SAMPLES_SQL },
  { version: 5, name: 'outcome feed', sql: OUTCOME_FEED_SQL },
  { version: 6, name: 'assets', sql: ASSETS_SQL },
  ...LATER_POSTGRES_MIGRATIONS,
];

/**
 * Key of the advisory lock that serialises migrations: "ferry" in ASCII. It lies above 2^32, so it
 * never meets a key made by hashtext() (the leader lock's), which stays within 32 bits.
 */
const MIGRATION_LOCK = 0x6665727279;

/**
 * Applies the migrations not yet applied. Several replicas may start at once: all of them run this
 * in one transaction holding a transaction-scoped advisory lock, and read what is applied only
 * after taking it, so each migration runs once and a replica never sees half a schema.
 */
export async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  await transaction(pool, async (sql: Sql) => {
    await sql.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Inside the lock: CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE.
    if (schema !== undefined) await sql.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await sql.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((await sql.rows<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    for (const m of POSTGRES_MIGRATIONS) {
      if (done.has(m.version)) continue;
      await sql.run(m.sql);
      await sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
  });
}
