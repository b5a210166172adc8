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
  positionsInBatch,
  queueCountsOf,
} from '../task-queue.js';
import type { Row, SqliteConnection } from './connection.js';
import { type TaskMove, expireTasks, insertTask, leaseTasks, moveTask, reclaimTask } from './task-transitions.js';
import { cmp, isIn, placeholders, where } from './where.js';
import { LEASED } from '../status-lists.js';

export class SqliteTaskQueue implements TaskQueue {
  constructor(private readonly conn: SqliteConnection) {}

  async enqueueTask({ task, requestHash }: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult> {
    return this.conn.immediate((): EnqueueResult => {
      if (task.idempotencyKey !== null) {
        const earlier = this.conn.stmt.taskByKey.get(task.tenantId, task.idempotencyKey) as Row | undefined;
        if (earlier) return { created: false, task: toTask(earlier), sameRequest: earlier.request_hash === requestHash };
      }
      insertTask(this.conn, task, requestHash);
      const claimed = claimFor ? leaseTasks(this.conn, claimFor) : [];
      const stored = claimed.find((t) => t.id === task.id) ?? task;
      return { created: true, task: stored, claimed, position: stored.status === 'QUEUED' ? this.positionOf(stored) : null };
    });
  }

  async enqueueBatch(newTasks: NewTask[]): Promise<BatchEnqueued[]> {
    return this.conn.immediate((): BatchEnqueued[] => {
      const stored = newTasks.map(({ task, requestHash }): BatchEnqueued | null => {
        const earlier = task.idempotencyKey === null ? undefined : (this.conn.stmt.taskByKey.get(task.tenantId, task.idempotencyKey) as Row | undefined);
        if (earlier) return { created: false, task: toTask(earlier), sameRequest: earlier.request_hash === requestHash };
        insertTask(this.conn, task, requestHash);
        return null;
      });
      const positions = positionsInBatch(
        newTasks.filter((_, i) => stored[i] === null).map((n) => n.task),
        (first) => this.positionOf(first),
      );
      return stored.map((s, i) => s ?? { created: true, task: newTasks[i]!.task, position: positions.get(newTasks[i]!.task.id)! });
    });
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | null> {
    const row = this.conn.stmt.taskById.get(taskId) as Row | undefined;
    return row && row.tenant_id === tenantId ? toTask(row) : null;
  }

  async tasksWithDestinations(taskIds: string[]): Promise<Set<string>> {
    if (taskIds.length === 0) return new Set();
    const ids = this.conn.sql(`SELECT id FROM tasks WHERE id IN (${placeholders(taskIds.length)}) AND destinations IS NOT NULL`).pluck().all(...taskIds) as string[];
    return new Set(ids);
  }

  async listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where(
      cmp('tenant_id', '=', tenantId),
      cmp('function_id', '=', filter.functionId),
      cmp('version_id', '=', filter.versionId),
      isIn('status', filter.statuses),
      cmp('created_at', '>=', filter.createdAfter),
      cmp('created_at', '<', filter.createdBefore),
      cmp('seq', '<', before),
    );
    const rows = this.conn.sql(`SELECT * FROM tasks ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toTask, 'seq');
  }

  async taskPosition(task: TaskRecord): Promise<number> {
    return this.positionOf(task);
  }

  private positionOf(task: TaskRecord): number {
    return this.conn.stmt.position.get({ versionId: task.versionId, priority: task.priority, id: task.id }) as number;
  }

  async claimTasks(req: ClaimRequest): Promise<TaskRecord[]> {
    return this.conn.immediate(() => leaseTasks(this.conn, req));
  }

  async renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport> {
    const rows = this.conn.stmt.renew.all({
      instanceId,
      leaseUntil: this.conn.clock.now() + leaseMs,
      ids: JSON.stringify(held.map((r) => r.id)),
    }) as { id: string; attempt: number; status: TaskStatus }[];
    return leaseReport(held, rows);
  }

  async reportProgress(ref: TaskRef, p: TaskProgress): Promise<boolean> {
    const result = this.conn.stmt.progress.run({
      id: ref.id,
      attempt: ref.attempt,
      progress: p.progress,
      message: p.message ?? null,
      partialOutput: encodeJson(p.partialOutput),
    });
    return result.changes > 0;
  }

  async appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    await this.conn.immediate(() => {
      for (const l of lines) this.conn.stmt.insertLog.run(ref.id, ref.attempt, l.stream, l.text, l.at);
    });
  }

  async getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]> {
    return this.conn
      .sql(
        `SELECT l.seq, l.attempt, l.stream, l.text, l.at FROM task_logs l JOIN tasks t ON t.id = l.task_id
         WHERE l.task_id = ? AND t.tenant_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`,
      )
      .all(taskId, tenantId, afterSeq, limit) as TaskLogLine[];
  }

  async completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult> {
    return this.conn.immediate((): CompleteResult => ({ ...this.completeIn(ref, outcome, retryBaseMs), claimed: next ? leaseTasks(this.conn, next) : [] }));
  }

  /** Records the end of an attempt; runs inside the caller's transaction. */
  private completeIn(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number): Omit<CompleteResult, 'claimed'> {
    const row = this.conn.stmt.taskById.get(ref.id) as Row | undefined;
    if (!row) return { accepted: false, task: null };
    const task = toTask(row);
    if (task.attempt !== ref.attempt || !(LEASED_TASK_STATUSES as readonly string[]).includes(task.status)) return { accepted: false, task };
    const now = this.conn.clock.now();
    const decision = decideCompletion(task.status, outcome, task.attempt - task.lostAttempts, task.maxAttempts, retryBaseMs);
    const move: TaskMove =
      decision.kind === 'retry'
        ? { to: 'QUEUED', lost: false, runAt: now + decision.delayMs, error: outcome.error ?? null }
        : { to: decision.status, output: outcome.output, outputType: outcome.outputType, outputAssets: outcome.outputAssets, outputAsset: outcome.outputAsset, error: decision.status === 'CANCELLED' ? TASK_ERRORS.cancelled() : (outcome.error ?? null) };
    return { accepted: true, task: moveTask(this.conn, task, move, now) };
  }

  async requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null> {
    return this.conn.immediate((): { task: TaskRecord; previous: TaskStatus } | null => {
      const row = this.conn.stmt.taskById.get(taskId) as Row | undefined;
      if (!row || row.tenant_id !== tenantId) return null;
      const task = toTask(row);
      const previous = task.status;
      if (previous === 'QUEUED') return { previous, task: moveTask(this.conn, task, { to: 'CANCELLED', error: TASK_ERRORS.cancelled() }, this.conn.clock.now()) };
      if (previous === 'RUNNING') return { previous, task: moveTask(this.conn, task, { to: 'CANCELLING', error: TASK_ERRORS.cancelled() }, this.conn.clock.now()) };
      return { previous, task };
    });
  }

  async reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]> {
    return this.conn.immediate(() => {
      const now = this.conn.clock.now();
      const rows = this.conn.sql(`SELECT * FROM tasks WHERE status IN ${LEASED} AND lease_expires_at < ? LIMIT ?`).all(now, limit) as Row[];
      return rows.map((r) => reclaimTask(this.conn, toTask(r), TASK_ERRORS.leaseExpired(), now));
    });
  }

  async releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]> {
    if (instanceIds.length === 0) return [];
    return this.conn.immediate(() => {
      const now = this.conn.clock.now();
      const rows = this.conn.sql(`SELECT * FROM tasks WHERE status IN ${LEASED} AND instance_id IN (${placeholders(instanceIds.length)})`).all(...instanceIds) as Row[];
      return rows.map((r) => {
        const task = toTask(r);
        if (how === 'requeue') return reclaimTask(this.conn, task, TASK_ERRORS.instanceStopped(), now);
        const cancelled = moveTask(this.conn, task, { to: 'CANCELLED', error: TASK_ERRORS.cancelledByUndeploy() }, now);
        return { task: cancelled, status: 'CANCELLED' as const, taken: { attempt: task.attempt, instanceId: task.instanceId } };
      });
    });
  }

  async expireQueuedTasks(limit: number): Promise<TaskRecord[]> {
    return this.conn.immediate(() => expireTasks(this.conn, limit, this.conn.clock.now()));
  }

  async queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts> {
    const w = where(cmp('version_id', '=', scope.versionId), cmp('function_id', '=', scope.functionId), cmp('tenant_id', '=', scope.tenantId));
    return queueCountsOf(this.conn.sql(`SELECT status, count(*) AS n FROM tasks ${w.sql} GROUP BY status`).all(...w.args) as { status: TaskStatus; n: number }[]);
  }

  async versionLoad(versionId: string): Promise<{ queued: number; running: number }> {
    // The queued count sums the version's queue blocks; the leased one reads a partial index of leased rows.
    const queued = this.conn.stmt.queuedCount.get(versionId) as number;
    const running = this.conn.stmt.leasedCount.get(versionId) as number;
    return { queued, running };
  }

  async nextRunAt(versionId: string): Promise<number | null> {
    return (this.conn.sql("SELECT min(run_at) FROM tasks WHERE version_id = ? AND status = 'QUEUED'").pluck().get(versionId) as number | null) ?? null;
  }
}
