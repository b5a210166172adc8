import type { OutputAssetRef } from '../../core/assets.js';
import { decideReclaim } from '../../core/completion.js';
import { LIMITS } from '../../core/limits.js';
import type { TerminalTaskStatus } from '../../core/states.js';
import { TASK_ERRORS } from '../../core/task-errors.js';
import type { TaskError, TaskRecord } from '../../core/types.js';
import { encodeJson, toTask } from '../rows.js';
import type { ClaimRequest, ReclaimedTask } from '../task-queue.js';
import type { Row, SqliteConnection } from './connection.js';

/**
 * A move of one task out of its current attempt: back to the queue as the next attempt (a retry
 * after back-off, or at once after a lost holder), to CANCELLING while its agent stops it, or to a
 * terminal status.
 */
export type TaskMove =
  | { to: 'QUEUED'; lost: boolean; runAt: number; error: TaskError | null }
  | { to: 'CANCELLING'; error: TaskError }
  | { to: TerminalTaskStatus; output?: unknown; outputType?: string; outputAssets?: OutputAssetRef[]; outputAsset?: string; error: TaskError | null };

/*
 * Every write of a task's status is here: the enqueue, the lease, and the moves after them. The
 * two moves that end an attempt (a terminal status, or a retry scheduled) record the attempt's
 * outcome in the feed inside the same transaction: the caller's, which must be open (or the move
 * is one statement and its outcome a second, unprotected).
 */

/** Stores a new task, QUEUED; inside the caller's transaction. */
export function insertTask(conn: SqliteConnection, task: TaskRecord, requestHash: string | null): void {
  conn.stmt.insertTask.run({
    ...task,
    input: JSON.stringify(task.input ?? null),
    inputAssets: task.inputAssets.length > 0 ? JSON.stringify(task.inputAssets) : null,
    destinations: encodeJson(task.destinations),
    requestHash,
  });
}

/** Moves one task out of its current attempt (see `TaskMove`). */
export function moveTask(conn: SqliteConnection, task: TaskRecord, move: TaskMove, now: number): TaskRecord {
  const { stmt } = conn;
  if (move.to === 'CANCELLING') return toTask(stmt.markCancelling.get(encodeJson(move.error), task.id) as Row);
  if (move.to === 'QUEUED') {
    const moved = toTask(stmt.requeue.get({ id: task.id, lost: move.lost ? 1 : 0, runAt: move.runAt, error: encodeJson(move.error) }) as Row);
    recordOutcome(conn, task, 'QUEUED', move.error, now, true);
    return moved;
  }
  const succeeded = move.to === 'SUCCEEDED';
  const output = !succeeded ? null : move.outputType ? (move.output as string) : encodeJson(move.output);
  const outputAssets = succeeded && move.outputAssets?.length ? JSON.stringify(move.outputAssets) : null;
  const outputAsset = (succeeded && move.outputAsset) || null;
  const moved = toTask(stmt.finish.get({ id: task.id, status: move.to, output, outputType: (succeeded && move.outputType) || null, outputAssets, outputAsset, error: succeeded ? null : encodeJson(move.error), now }) as Row);
  // A task ended in the queue (cancelled there) never ran this attempt; its startedAt is an earlier one's.
  recordOutcome(conn, task, move.to, move.error, now, task.status !== 'QUEUED');
  return moved;
}

/** Moves queued tasks past their expiry to EXPIRED, each with its outcome; inside the caller's transaction. */
export function expireTasks(conn: SqliteConnection, limit: number, now: number): TaskRecord[] {
  const error = TASK_ERRORS.expired();
  const rows = conn.stmt.expire.all({ now, limit, error: encodeJson(error) }) as Row[];
  return rows.map((row) => {
    const task = toTask(row);
    recordOutcome(conn, task, 'EXPIRED', error, now, false);
    return task;
  });
}

/** The outcome of the attempt `task` is in; `ran`: whether that attempt started (else its startedAt is null). */
function recordOutcome(conn: SqliteConnection, task: TaskRecord, status: TerminalTaskStatus | 'QUEUED', error: TaskError | null, now: number, ran: boolean): void {
  conn.stmt.insertOutcome.run({
    taskId: task.id,
    attempt: task.attempt,
    tenantId: task.tenantId,
    functionId: task.functionId,
    versionId: task.versionId,
    status,
    errorCode: status === 'SUCCEEDED' ? null : (error?.code ?? null),
    createdAt: task.createdAt,
    startedAt: ran ? task.startedAt : null,
    at: now,
  });
}

/** Leases the instance's next tasks; runs inside the caller's transaction. */
export function leaseTasks(conn: SqliteConnection, req: ClaimRequest): TaskRecord[] {
  const { stmt } = conn;
  const inst = stmt.instanceState.get(req.instanceId) as { state: string; version_id: string; node_id: string } | undefined;
  if (!inst || inst.state !== 'IDLE') return [];
  const now = conn.clock.now();
  // Look first, write only when there is something: an UPDATE on tasks costs ~0.1 ms to set up
  // (a cursor per index, the triggers) even when it matches nothing, and most claims find nothing.
  const seqs = stmt.claimable.all({ versionId: inst.version_id, now, limit: req.limit }) as number[];
  if (seqs.length === 0) return [];
  const rows = stmt.lease.all({ instanceId: req.instanceId, nodeId: inst.node_id, now, leaseUntil: now + req.leaseMs, seqs: JSON.stringify(seqs) }) as Row[];
  // RETURNING gives no order: put them back in claim order.
  const order = new Map(seqs.map((seq, i) => [seq, i]));
  return rows.sort((a, b) => order.get(a.seq as number)! - order.get(b.seq as number)!).map(toTask);
}

/** Takes a leased task back from a holder that is gone (core/completion.ts decides its fate); inside the caller's transaction. */
export function reclaimTask(conn: SqliteConnection, task: TaskRecord, error: TaskError, now: number): ReclaimedTask {
  const next = decideReclaim(task.status, task.lostAttempts, LIMITS.extraAttemptsForLostLeases);
  const move: TaskMove = next === 'QUEUED' ? { to: 'QUEUED', lost: true, runAt: now, error } : { to: next, error: next === 'CANCELLED' ? TASK_ERRORS.cancelled() : error };
  return { task: moveTask(conn, task, move, now), status: next, taken: { attempt: task.attempt, instanceId: task.instanceId } };
}
