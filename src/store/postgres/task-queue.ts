import { type AttemptOutcome, decideCompletion } from '../../core/completion.js';
import { LEASED_TASK_STATUSES, type TaskStatus } from '../../core/states.js';
import { TASK_ERRORS } from '../../core/task-errors.js';
import type { LeaseReport, Page, TaskLogLine, TaskProgress, TaskRecord, TaskRef } from '../../core/types.js';
import { decodeCursor } from '../cursor.js';
import { leaseReport } from '../lease-report.js';
import { type PageRequest, pageOf } from '../paging.js';
import { encodeJson, toTask } from '../rows.js';
import {
  type ClaimRequest,
  type CompleteResult,
  type BatchEnqueued,
  type EnqueueResult,
  type NewTask,
  type QueueCounts,
  type ReclaimedTask,
  type TaskFilter,
  type TaskQueue,
  firstOfEachQueue,
  positionsInBatch,
  queueCountsOf,
} from '../task-queue.js';
import { type PgConnection, type Row, type Sql, storableText } from './connection.js';
import { SQL } from './statements.js';
import { TRANSITIONS_SQL, byId, finishArgs, reclaimTasks, recordAttempt, requeueArgs } from './task-transitions.js';
import { cmp, isIn, where } from './where.js';
import { LEASED } from '../status-lists.js';

export class PgTaskQueue implements TaskQueue {
  constructor(private readonly conn: PgConnection) {}

  async enqueueTask({ task, requestHash }: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult> {
    const fields = taskColumns(task, requestHash);
    // A task with input assets or destinations is stored by the plain insert (the claim function
    // stores neither): its attempt starts with downloads, or its end sends a delivery, so the
    // claim it skips is a small share of its cost.
    if (!claimFor || task.inputAssets.length > 0 || task.destinations !== null) {
      if (await this.conn.sql.one(TRANSITIONS_SQL.insertTask, [...fields, ...extraColumns(task)])) return { created: true, task, claimed: [], position: null };
      // The key is taken: a second round trip, only for a repeated request.
      const earlier = (await this.conn.sql.one(SQL.taskByKey, [task.tenantId, task.idempotencyKey]))!;
      return { created: false, task: toTask(earlier), sameRequest: earlier.request_hash === requestHash };
    }
    const now = this.conn.clock.now();
    const [first, ...claimedRows] = await this.conn.sql.rows(TRANSITIONS_SQL.enqueueAndClaim, [...fields, ...claimArgs(claimFor, now)]);
    if (first?.tag === 'earlier') return { created: false, task: toTask(first), sameRequest: first.request_hash === requestHash };
    if (first?.tag !== 'created') throw new Error(`enqueue_and_claim returned ${String(first?.tag)} first`);
    const claimed = inClaimOrder(claimedRows).map(toTask);
    return { created: true, task: claimed.find((t) => t.id === task.id) ?? task, claimed, position: null };
  }

  /**
   * One INSERT for the whole batch (atomic on its own: all or none), in the order given, then the
   * earlier tasks of keys already taken, and the position of the first new task of each queue (the
   * others follow it, see positionsInBatch).
   */
  async enqueueBatch(newTasks: NewTask[]): Promise<BatchEnqueued[]> {
    if (newTasks.length === 0) return [];
    const created = await this.conn.tx((sql) => insertTasks(sql, newTasks));
    const { sql } = this.conn;
    const taken = newTasks.filter((n) => !created.has(n.task.id)).map((n) => n.task);
    const earlier = new Map<string, Row>();
    if (taken.length > 0) {
      for (const row of await sql.rows(SQL.tasksByKeys, [taken.map((t) => t.tenantId), taken.map((t) => t.idempotencyKey)])) earlier.set(`${row.tenant_id as string}\u0000${row.idempotency_key as string}`, row);
    }
    const fresh = newTasks.filter((n) => created.has(n.task.id)).map((n) => n.task);
    const asked = new Map<string, number>();
    for (const t of firstOfEachQueue(fresh)) asked.set(t.id, await this.taskPosition(t));
    const positions = positionsInBatch(fresh, (first) => asked.get(first.id)!);
    return newTasks.map(({ task, requestHash }): BatchEnqueued => {
      if (created.has(task.id)) return { created: true, task, position: positions.get(task.id)! };
      const row = earlier.get(`${task.tenantId}\u0000${task.idempotencyKey!}`)!;
      return { created: false, task: toTask(row), sameRequest: row.request_hash === requestHash };
    });
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | null> {
    const row = await this.conn.sql.one(SQL.taskOfTenant, [taskId, tenantId]);
    return row ? toTask(row) : null;
  }

  async tasksWithDestinations(taskIds: string[]): Promise<Set<string>> {
    if (taskIds.length === 0) return new Set();
    const rows = await this.conn.sql.rows<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::text[]) AND destinations IS NOT NULL', [taskIds]);
    return new Set(rows.map((r) => r.id));
  }

  async listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where([
      cmp('tenant_id', '=', tenantId),
      cmp('function_id', '=', filter.functionId),
      cmp('version_id', '=', filter.versionId),
      isIn('status', filter.statuses),
      cmp('created_at', '>=', filter.createdAfter),
      cmp('created_at', '<', filter.createdBefore),
      cmp('seq', '<', before),
    ]);
    const rows = await this.conn.sql.rows(`SELECT * FROM tasks ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toTask, 'seq');
  }

  async taskPosition(task: TaskRecord): Promise<number> {
    return (await this.conn.sql.one<{ position: number }>(SQL.position, [task.versionId, task.priority, task.id]))!.position;
  }

  async claimTasks(req: ClaimRequest): Promise<TaskRecord[]> {
    return inClaimOrder(await this.conn.sql.rows(TRANSITIONS_SQL.claim, claimArgs(req, this.conn.clock.now()))).map(toTask);
  }

  async renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport> {
    const rows = await this.conn.sql.rows<{ id: string; attempt: number; status: TaskStatus }>(SQL.renew, [instanceId, this.conn.clock.now() + leaseMs, held.map((r) => r.id)]);
    return leaseReport(held, rows);
  }

  async reportProgress(ref: TaskRef, p: TaskProgress): Promise<boolean> {
    const message = p.message === undefined || p.message === null ? null : storableText(p.message);
    return (await this.conn.sql.run(SQL.progress, [ref.id, ref.attempt, p.progress, message, encodeJson(p.partialOutput)])) > 0;
  }

  async appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    if (lines.length === 0) return;
    await this.conn.sql.run(SQL.insertLogs, [ref.id, ref.attempt, lines.map((l) => l.stream), lines.map((l) => storableText(l.text)), lines.map((l) => l.at)]);
  }

  async getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]> {
    return this.conn.sql.rows<TaskLogLine>(
      `SELECT l.seq, l.attempt, l.stream, l.text, l.at FROM task_logs l JOIN tasks t ON t.id = l.task_id
       WHERE l.task_id = $1 AND t.tenant_id = $2 AND l.seq > $3 ORDER BY l.seq LIMIT $4`,
      [taskId, tenantId, afterSeq, limit],
    );
  }

  async completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult> {
    let claimed: TaskRecord[] = [];
    let pending = next;
    // Read, decide (core/completion.ts), write only if the task is still as read. A miss means a
    // cancel or the reaper moved it in between: read it again and decide on what it is now.
    for (;;) {
      const row = await this.conn.sql.one(SQL.taskById, [ref.id]);
      const task = row ? toTask(row) : null;
      if (!task || task.attempt !== ref.attempt || !(LEASED_TASK_STATUSES as readonly string[]).includes(task.status)) {
        if (pending) claimed = await this.claimTasks(pending);
        return { accepted: false, task, claimed };
      }
      const now = this.conn.clock.now();
      const decision = decideCompletion(task.status, outcome, task.attempt - task.lostAttempts, task.maxAttempts, retryBaseMs);
      const args =
        decision.kind === 'retry'
          ? requeueArgs([task.id], false, now + decision.delayMs, outcome.error ?? null, now)
          : finishArgs([task.id], decision.status, outcome.output, decision.status === 'CANCELLED' ? TASK_ERRORS.cancelled() : (outcome.error ?? null), now, true, outcome);
      // A retry goes back to the queue, a change of its queue counter (migration 2); a claim in the
      // same statement would change others in a second batch, out of key order, and could deadlock
      // with another claim. So a retry, the rarer path, claims on its own afterwards, which also lets
      // that claim see the task it just re-queued, as in SQLite.
      const claimAlong = pending !== undefined && decision.kind !== 'retry';
      const statement = recordAttempt(decision.kind === 'retry' ? 'requeue' : 'finish', claimAlong);
      const rows = await this.conn.sql.rows(statement, [...args, task.attempt, task.status, ...(claimAlong ? claimArgs(pending!, now) : [])]);
      const done = claimAlong ? rows.find((r) => r.tag === 'done') : rows[0];
      if (claimAlong) {
        claimed = inClaimOrder(rows.filter((r) => r.tag === 'claimed')).map(toTask);
        pending = undefined;
      }
      if (!done) continue;
      if (pending) claimed = await this.claimTasks(pending);
      return { accepted: true, task: toTask(done), claimed };
    }
  }

  async requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null> {
    return this.conn.tx(async (sql) => {
      const row = await sql.one(`${SQL.taskOfTenant} FOR UPDATE`, [taskId, tenantId]);
      if (!row) return null;
      const task = toTask(row);
      const previous = task.status;
      const error = TASK_ERRORS.cancelled();
      if (previous === 'QUEUED') {
        return { previous, task: toTask((await sql.one(TRANSITIONS_SQL.finish, finishArgs([taskId], 'CANCELLED', null, error, this.conn.clock.now(), false)))!) };
      }
      if (previous === 'RUNNING') {
        return { previous, task: toTask((await sql.one(TRANSITIONS_SQL.markCancelling, [encodeJson(error), taskId]))!) };
      }
      return { previous, task };
    });
  }

  async reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]> {
    return this.conn.tx(async (sql) => {
      const now = this.conn.clock.now();
      // SKIP LOCKED: the reaper of another replica, or a completion in flight, holds those rows.
      const rows = await sql.rows(`SELECT * FROM tasks WHERE status IN ${LEASED} AND lease_expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit]);
      return reclaimTasks(sql, rows.map(toTask), TASK_ERRORS.leaseExpired(), now);
    });
  }

  async releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]> {
    if (instanceIds.length === 0) return [];
    return this.conn.tx(async (sql) => {
      const now = this.conn.clock.now();
      const rows = await sql.rows(`SELECT * FROM tasks WHERE status IN ${LEASED} AND instance_id = ANY($1) ORDER BY seq FOR UPDATE`, [instanceIds]);
      const tasks = rows.map(toTask);
      if (how === 'requeue') return reclaimTasks(sql, tasks, TASK_ERRORS.instanceStopped(), now);
      if (tasks.length === 0) return [];
      const args = finishArgs(tasks.map((t) => t.id), 'CANCELLED', null, TASK_ERRORS.cancelledByUndeploy(), now, true);
      const cancelled = byId(await sql.rows(TRANSITIONS_SQL.finish, args));
      return tasks.map((t) => ({ task: cancelled.get(t.id)!, status: 'CANCELLED' as const, taken: { attempt: t.attempt, instanceId: t.instanceId } }));
    });
  }

  async expireQueuedTasks(limit: number): Promise<TaskRecord[]> {
    const error = TASK_ERRORS.expired();
    const rows = await this.conn.sql.rows(TRANSITIONS_SQL.expire, [this.conn.clock.now(), encodeJson(error), limit, error.code]);
    return rows.map(toTask);
  }

  async queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts> {
    const w = where([cmp('version_id', '=', scope.versionId), cmp('function_id', '=', scope.functionId), cmp('tenant_id', '=', scope.tenantId)]);
    const rows = await this.conn.sql.rows<{ status: TaskStatus; n: number }>(`SELECT status, count(*) AS n FROM tasks ${w.sql} GROUP BY status`, w.args);
    return queueCountsOf(rows);
  }

  async versionLoad(versionId: string): Promise<{ queued: number; running: number }> {
    return (await this.conn.sql.one<{ queued: number; running: number }>(SQL.versionLoad, [versionId]))!;
  }

  async nextRunAt(versionId: string): Promise<number | null> {
    return (await this.conn.sql.one<{ t: number | null }>("SELECT min(run_at) AS t FROM tasks WHERE version_id = $1 AND status = 'QUEUED'", [versionId]))!.t;
  }
}

function claimArgs(req: ClaimRequest, now: number): unknown[] {
  return [req.instanceId, req.limit, now, now + req.leaseMs];
}

/** RETURNING gives no order: put claimed rows back in claim order (priority, then seq). */
function inClaimOrder(rows: Row[]): Row[] {
  return rows.sort((a, b) => (b.priority as number) - (a.priority as number) || (a.seq as number) - (b.seq as number));
}

/** The columns only the plain insert stores: input assets and destinations. */
const extraColumns = (task: TaskRecord): (string | null)[] => [task.inputAssets.length > 0 ? JSON.stringify(task.inputAssets) : null, encodeJson(task.destinations)];

/** The values of a new task's row, in the order of the insert statements' columns. */
/**
 * Inside a transaction: stores the tasks (in the order given) whose idempotency keys are free, and
 * puts them in their queues; returns the ids stored.
 */
export async function insertTasks(sql: Sql, newTasks: NewTask[]): Promise<Set<string>> {
  if (newTasks.length === 0) return new Set();
  const rows = newTasks.map((n) => [...taskColumns(n.task, n.requestHash), ...extraColumns(n.task)]);
  const columns = rows[0]!.map((_, c) => rows.map((r) => r[c]));
  const created = (await sql.rows<{ id: string }>(TRANSITIONS_SQL.insertBatch, columns)).map((r) => r.id);
  if (created.length > 0) await sql.run(TRANSITIONS_SQL.enterQueue, [created]);
  return new Set(created);
}

function taskColumns(task: TaskRecord, requestHash: string | null): unknown[] {
  return [
    task.id, task.tenantId, task.functionId, task.versionId, task.taskType, task.priority, JSON.stringify(task.input ?? null),
    task.attempt, task.maxAttempts, task.timeoutSeconds, task.idempotencyKey, requestHash, task.createdAt, task.runAt, task.expiresAt,
  ];
}
