import { LEASED } from '../status-lists.js';

/**
 * The statements on the store's hot paths, each one round trip (and the writes one commit each).
 * Measured with one client on a 2-core VM, PostgreSQL 15 on localhost with fsync on, a queue of
 * 40,000 tasks, medians of 7 interleaved runs; a one-row read (getTask) takes 0.18 ms there:
 *
 * | operation | as shipped | as a transaction of single statements |
 * | --- | --- | --- |
 * | enqueue | INSERT … ON CONFLICT DO NOTHING RETURNING: 0.40 ms | BEGIN, SELECT key, INSERT, COMMIT: 0.82 ms |
 * | enqueue + claim | `enqueue_and_claim()`: 1.23 ms | BEGIN, INSERT, claim, COMMIT: 1.41 ms |
 * | claim 1 | `claim_tasks()`: 0.88 ms | BEGIN, SELECT … FOR UPDATE SKIP LOCKED, UPDATE, COMMIT: 1.03 ms |
 * | complete + claim | read, then guarded UPDATE + `claim_tasks()` in one statement (task-transitions.ts): 2 round trips | 5 round trips |
 *
 * On localhost a round trip is cheap next to planning and the WAL flush, so the gain is 15-50%;
 * across a network every round trip saved is a full RTT, and a single statement holds its row
 * locks for one statement instead of four. A plain enqueue is a bare INSERT rather than a call of
 * a function because the call cost 10% more (0.43 ms against 0.38 in the same runs).
 * Statements go unnamed (parsed per call): a named, prepared `SELECT *` fails with "cached plan
 * must not change result type" on every connection of an older replica once a newer one adds a
 * column, and the PL/pgSQL functions keep their own parsed statements.
 */
export const SQL = {
  taskById: 'SELECT * FROM tasks WHERE id = $1',
  taskOfTenant: 'SELECT * FROM tasks WHERE id = $1 AND tenant_id = $2',
  apiKey: 'SELECT * FROM api_keys WHERE hash = $1',
  taskByKey: 'SELECT * FROM tasks WHERE tenant_id = $1 AND idempotency_key = $2',
  tasksByKeys: 'SELECT t.* FROM tasks t JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, idempotency_key) ON t.tenant_id = k.tenant_id AND t.idempotency_key = k.idempotency_key',
  // The blocks ahead (queue_blocks, migration 2), then the tasks ahead inside its own block.
  // The bounds of the in-block count are scalar subqueries, so they reach the tasks_queue index as
  // range conditions; as a join with `me` they did not, and while the planner's statistics lagged a
  // growing queue (no ANALYZE yet) it counted the version's whole queue instead: 15 ms at 30k queued.
  position: `WITH me AS MATERIALIZED (SELECT seq, seq >> 10 AS block FROM tasks WHERE id = $3)
    SELECT (SELECT coalesce(sum(b.queued), 0) FROM queue_blocks b WHERE b.version_id = $1
              AND (b.priority > $2 OR (b.priority = $2 AND b.block < (SELECT block FROM me))))
         + (SELECT count(*) FROM tasks t WHERE t.version_id = $1 AND t.status = 'QUEUED' AND t.priority = $2
              AND t.seq >= (SELECT block << 10 FROM me) AND t.seq < (SELECT seq FROM me)) AS position`,
  renew: `UPDATE tasks SET lease_expires_at = $2
    WHERE instance_id = $1 AND status IN ${LEASED} AND id = ANY($3)
    RETURNING id, attempt, status`,
  progress: `UPDATE tasks SET progress = $3, progress_message = $4, partial_output = $5
    WHERE id = $1 AND attempt = $2 AND status IN ${LEASED}`,
  // One statement for any number of lines, inserted in the order given.
  insertLogs: `INSERT INTO task_logs (task_id, attempt, stream, text, at)
    SELECT $1, $2, l.stream, l.text, l.at FROM unnest($3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS l(stream, text, at, n) ORDER BY l.n`,
  // The queued count sums the version's queue blocks; the leased one reads a partial index of leased rows.
  versionLoad: `SELECT (SELECT coalesce(sum(queued), 0) FROM queue_blocks WHERE version_id = $1) AS queued,
    (SELECT count(*) FROM tasks WHERE version_id = $1 AND status IN ${LEASED}) AS running`,
} as const;
