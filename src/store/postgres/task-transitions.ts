import { type AttemptOutcome, decideReclaim } from '../../core/completion.js';
import { LIMITS } from '../../core/limits.js';
import type { TaskStatus } from '../../core/states.js';
import { TASK_ERRORS } from '../../core/task-errors.js';
import type { TaskError, TaskRecord } from '../../core/types.js';
import { encodeJson, toTask } from '../rows.js';
import type { ReclaimedTask } from '../task-queue.js';
import type { Row, Sql } from './connection.js';

/*
 * Every statement that writes a task's status is here (the enqueue's and the lease's bodies are
 * the PL/pgSQL functions of migration 3). Each move that ends an attempt (a terminal status, or a
 * retry scheduled) records the attempt's outcome in the same statement, as a second
 * data-modifying part of one WITH: the feed row commits or rolls back with the move, whichever
 * path made it. The transaction's id goes with the row (its default), which is what lets a feed
 * reader hand out rows in an order no later commit can fill in.
 */

const OUTCOME_COLUMNS = 'task_id, attempt, tenant_id, function_id, version_id, status, error_code, created_at, started_at, at';

/**
 * Ends tasks: $1 ids, $2 status, $3 output, $4 error, $5 now, $6 error code, $7 whether the ended
 * attempt ran (false for a task ended in the queue, whose startedAt is an earlier attempt's), $8
 * the output's MIME type when it is a response kept as given, $9 the output assets (JSON), $10
 * the one that is the output itself.
 */
function finish(guard: string): string {
  return `WITH moved AS (
      UPDATE tasks SET status = $2, output = $3, output_type = $8, output_assets = $9, output_asset = $10, error = $4, finished_at = $5, lease_expires_at = NULL,
        progress = CASE WHEN $2::text = 'SUCCEEDED' THEN 100 ELSE progress END
      WHERE id = ANY($1) ${guard} RETURNING *
    ), recorded AS (
      INSERT INTO task_outcomes (${OUTCOME_COLUMNS})
      SELECT id, attempt, tenant_id, function_id, version_id, status, $6, created_at, CASE WHEN $7::boolean THEN started_at END, $5 FROM moved
    )`;
}

/** Puts tasks back in the queue as their next attempt: $1 ids, $2 lost (0 or 1), $3 run at, $4 error, $5 now, $6 error code. */
function requeue(guard: string): string {
  return `WITH moved AS (
      UPDATE tasks SET status = 'QUEUED', attempt = attempt + 1, lost_attempts = lost_attempts + $2, run_at = $3, error = $4,
        instance_id = NULL, node_id = NULL, lease_expires_at = NULL, progress = 0, progress_message = NULL, partial_output = NULL
      WHERE id = ANY($1) ${guard} RETURNING *
    ), recorded AS (
      INSERT INTO task_outcomes (${OUTCOME_COLUMNS})
      SELECT id, attempt - 1, tenant_id, function_id, version_id, 'QUEUED', $6, created_at, started_at, $5 FROM moved
    )`;
}

export const TRANSITIONS_SQL = {
  /**
   * Stores many tasks in one statement, in the order given (so their seqs follow it), skipping those
   * whose idempotency key is taken; the ids of those it stored come back. Parameters: one array per
   * column of `insertTask`, in its order. They are stored ENTERING (a status never committed), and
   * `enterQueue` then makes them QUEUED in one statement: inserted as QUEUED, each row would lock its
   * queue counter (migration 2) in seq order, which wraps around the stripes, so two batches could
   * each hold a counter the other waits for; one UPDATE locks them in key order.
   */
  insertBatch: `INSERT INTO tasks (id, tenant_id, function_id, version_id, task_type, status, priority, input, attempt, max_attempts,
      timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at, input_assets, destinations)
    SELECT id, tenant_id, function_id, version_id, task_type, 'ENTERING', priority, input, attempt, max_attempts,
      timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at, input_assets, destinations
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $9::int[], $10::int[],
      $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[], $17::text[])
      WITH ORDINALITY AS b(id, tenant_id, function_id, version_id, task_type, priority, input, attempt, max_attempts,
        timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at, input_assets, destinations, n)
    ORDER BY n
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
  /** The tasks `insertBatch` stored, into their queues: $1 their ids. */
  enterQueue: `UPDATE tasks SET status = 'QUEUED' WHERE id = ANY($1::text[]) AND status = 'ENTERING'`,
  /** Leases the next tasks of an instance (migration 3): $1 instance, $2 limit, $3 now, $4 lease until. */
  claim: 'SELECT * FROM claim_tasks($1, $2, $3, $4)',
  /** Stores a task unless its idempotency key is taken; no row back when it is. $16, $17: its input assets and destinations (JSON), or NULL. */
  insertTask: `INSERT INTO tasks (id, tenant_id, function_id, version_id, task_type, status, priority, input, attempt, max_attempts,
      timeout_s, idempotency_key, request_hash, created_at, run_at, expires_at, input_assets, destinations)
    VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING seq`,
  /**
   * The same insert (without input assets or destinations), then a claim (migration 3): four more parameters, as
   * `claim`; rows tagged 'earlier', 'created' or 'claimed'.
   */
  enqueueAndClaim: `SELECT e.tag, (e.task).* FROM enqueue_and_claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) e`,
  finish: `${finish('')} SELECT * FROM moved`,
  requeue: `${requeue('')} SELECT * FROM moved`,
  markCancelling: "UPDATE tasks SET status = 'CANCELLING', error = $1 WHERE id = $2 RETURNING *",
  /** $1 now, $2 error, $3 limit, $4 error code. SKIP LOCKED: a completion or another replica's reaper holds those rows. */
  expire: `WITH moved AS (
      UPDATE tasks SET status = 'EXPIRED', finished_at = $1, error = $2
      WHERE seq IN (SELECT seq FROM tasks WHERE status = 'QUEUED' AND expires_at <= $1 LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *
    ), recorded AS (
      INSERT INTO task_outcomes (${OUTCOME_COLUMNS})
      SELECT id, attempt, tenant_id, function_id, version_id, status, $4, created_at, NULL, $1 FROM moved
    ) SELECT * FROM moved`,
} as const;

/** The parameters of `finish` for tasks whose attempt ends `status`. */
export function finishArgs(ids: string[], status: TaskStatus, output: unknown, error: TaskError | null, now: number, ran: boolean, kept: OutputKept = {}): unknown[] {
  const succeeded = status === 'SUCCEEDED';
  const stored = !succeeded ? null : kept.outputType ? (output as string) : encodeJson(output);
  const assets = succeeded && kept.outputAssets?.length ? JSON.stringify(kept.outputAssets) : null;
  return [ids, status, stored, succeeded ? null : encodeJson(error), now, succeeded ? null : (error?.code ?? null), ran, (succeeded && kept.outputType) || null, assets, (succeeded && kept.outputAsset) || null];
}

/** How a succeeded attempt's output is kept besides its value: a response's type, the files it left as assets. */
export type OutputKept = Pick<AttemptOutcome, 'outputType' | 'outputAssets' | 'outputAsset'>;

/** The parameters of `requeue`. */
export function requeueArgs(ids: string[], lost: boolean, runAt: number, error: TaskError | null, now: number): unknown[] {
  return [ids, lost ? 1 : 0, runAt, encodeJson(error), now, error?.code ?? null];
}

/**
 * Records the end of an attempt as decided from a read of the task, only if the task is still in
 * the attempt and status that read saw (the two parameters after the move's own); with `claim`,
 * the instance's next tasks are leased in the same statement (four more parameters, as
 * `claim_tasks`), rows tagged 'done' or 'claimed'. Guarding instead of locking saves the BEGIN,
 * the SELECT … FOR UPDATE and the COMMIT round trips; a guard that misses means a cancel or the
 * reaper moved the task in between, and the caller reads it again.
 */
export function recordAttempt(kind: 'finish' | 'requeue', claim: boolean): string {
  const n = kind === 'finish' ? 10 : 6;
  const guard = `AND attempt = $${n + 1} AND status = $${n + 2}`;
  const moved = kind === 'finish' ? finish(guard) : requeue(guard);
  if (!claim) return `${moved} SELECT * FROM moved`;
  return `${moved}
    SELECT 'done' AS tag, * FROM moved
    UNION ALL
    SELECT 'claimed', * FROM claim_tasks($${n + 3}, $${n + 4}, $${n + 5}, $${n + 6})`;
}

/**
 * Takes back leased tasks whose holder is gone: core/completion.ts decides each one's fate (another
 * attempt, FAILED, or CANCELLED when a cancel was asked for), and each fate is one statement over
 * all its tasks rather than one per task, so a node lost with a hundred tasks costs three
 * statements. Runs inside the caller's transaction, which holds the tasks' rows.
 */
export async function reclaimTasks(sql: Sql, tasks: TaskRecord[], error: TaskError, now: number): Promise<ReclaimedTask[]> {
  const next = new Map(tasks.map((t) => [t.id, decideReclaim(t.status, t.lostAttempts, LIMITS.extraAttemptsForLostLeases)]));
  const updated = new Map<string, TaskRecord>();
  const apply = async (status: TaskStatus, statement: string, args: (ids: string[]) => unknown[]): Promise<void> => {
    const ids = tasks.filter((t) => next.get(t.id) === status).map((t) => t.id);
    if (ids.length > 0) for (const [id, task] of byId(await sql.rows(statement, args(ids)))) updated.set(id, task);
  };
  await apply('QUEUED', TRANSITIONS_SQL.requeue, (ids) => requeueArgs(ids, true, now, error, now));
  await apply('FAILED', TRANSITIONS_SQL.finish, (ids) => finishArgs(ids, 'FAILED', null, error, now, true));
  await apply('CANCELLED', TRANSITIONS_SQL.finish, (ids) => finishArgs(ids, 'CANCELLED', null, TASK_ERRORS.cancelled(), now, true));
  return tasks.map((t) => ({ task: updated.get(t.id)!, status: next.get(t.id)!, taken: { attempt: t.attempt, instanceId: t.instanceId } }));
}

export function byId(rows: Row[]): Map<string, TaskRecord> {
  return new Map(rows.map((r) => [r.id as string, toTask(r)]));
}
