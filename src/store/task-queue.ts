import type { AttemptOutcome } from '../core/completion.js';
import type { TaskStatus } from '../core/states.js';
import type { LeaseReport, Page, TaskLogLine, TaskProgress, TaskRecord, TaskRef } from '../core/types.js';
import type { PageRequest } from './paging.js';

export interface TaskFilter {
  functionId?: string;
  versionId?: string;
  statuses?: TaskStatus[];
  createdAfter?: number;
  createdBefore?: number;
}

/** Queued and leased counts of one version (or of a function's versions), for scaling and `/queue`. */
export interface QueueCounts {
  queued: number;
  running: number;
  byStatus: Partial<Record<TaskStatus, number>>;
}

export interface NewTask {
  task: TaskRecord;
  /** Hash of what was asked, so a reused idempotency key with other content is refused. */
  requestHash: string | null;
}

/**
 * `claimed`: what the claim that came with a new task leased (see `enqueueTask`); `position`: the
 * new task's place in its queue as the store left it, when the store read it along (null: ask).
 */
export type EnqueueResult = { created: true; task: TaskRecord; claimed: TaskRecord[]; position: number | null } | { created: false; task: TaskRecord; sameRequest: boolean };

/** One task of a batch as stored: new, with its place in its queue, or the earlier task of its idempotency key. */
export type BatchEnqueued = { created: true; task: TaskRecord; position: number } | { created: false; task: TaskRecord; sameRequest: boolean };

export interface ClaimRequest {
  instanceId: string;
  limit: number;
  leaseMs: number;
}

export interface CompleteResult {
  /** False when the attempt is not the task's current leased attempt (a late or stale result). */
  accepted: boolean;
  task: TaskRecord | null;
  /** Tasks leased by the claim that came with the completion (see `completeTask`). */
  claimed: TaskRecord[];
}

/** A task taken back from a dead lease or instance. */
export interface ReclaimedTask {
  task: TaskRecord;
  /** The status it moved to: QUEUED for another attempt, or a terminal one. */
  status: TaskStatus;
  /** The attempt that was taken back, and the instance that held it. */
  taken: { attempt: number; instanceId: string | null };
}

/**
 * The task queue: tasks from their enqueue to their end, with leases, progress and logs. Every move
 * that ends an attempt (a terminal status, or a retry scheduled) also records its outcome in the
 * outcome feed, in the same transaction.
 */
export interface TaskQueue {
  /**
   * Stores a task durably, or returns the earlier task of the same idempotency key. With
   * `claimFor` (an instance waiting for work), a new task's version is claimed for that instance
   * in the same transaction, so the enqueue also hands out the head of the queue: usually the new
   * task itself, which `task` then shows leased.
   */
  enqueueTask(newTask: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult>;
  /**
   * Stores many tasks in one transaction, each as `enqueueTask` would without a claim (a key used
   * earlier, or earlier in the same batch, returns that task), and answers in the order given,
   * with each new task's position in its queue as the transaction left it.
   */
  enqueueBatch(newTasks: NewTask[]): Promise<BatchEnqueued[]>;
  getTask(tenantId: string, taskId: string): Promise<TaskRecord | null>;
  /** Which of the tasks carry destinations of their own: one read for a batch of ended tasks, most of which carry none. */
  tasksWithDestinations(taskIds: string[]): Promise<Set<string>>;
  listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>>;
  /** Number of claimable tasks ahead of a queued task in its version's queue (0 = next). */
  taskPosition(task: TaskRecord): Promise<number>;
  /**
   * Leases up to `limit` runnable tasks of the instance's version to it, highest priority then
   * oldest first, as the next attempt. Claims nothing unless the instance is IDLE.
   */
  claimTasks(request: ClaimRequest): Promise<TaskRecord[]>;
  /** Extends the leases the instance still holds and says which to cancel and which are lost. */
  renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport>;
  /** Records progress of the current attempt; ignored for any other attempt. */
  reportProgress(ref: TaskRef, progress: TaskProgress): Promise<boolean>;
  appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void>;
  getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]>;
  /**
   * Records the end of an attempt (see core/completion.ts); stale attempts are refused. With
   * `next`, the instance's next tasks are claimed in the same transaction, the slot it frees
   * refilled with one commit instead of two; the claim happens whether or not the result is taken.
   */
  completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult>;
  /**
   * Cancels a task: a queued one ends CANCELLED at once, a leased one moves to CANCELLING until its
   * agent reports. Returns null when the task does not exist in the tenant; `previous` is the
   * status it had, so a caller can tell a fresh cancel from one of a task already ended.
   */
  requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null>;
  /** Takes back tasks whose lease expired: another attempt, or FAILED when none is left. */
  reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]>;
  /** Moves queued tasks past their `expiresAt` to EXPIRED. */
  expireQueuedTasks(limit: number): Promise<TaskRecord[]>;
  /** Puts back in the queue (or cancels) the leased tasks of the given instances. */
  releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]>;
  queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts>;
  /**
   * Queued and leased counts of one version, for the autoscaler. Unlike `queueCounts` it reads
   * only live tasks, never the version's history, so its cost does not grow as tasks finish.
   */
  versionLoad(versionId: string): Promise<{ queued: number; running: number }>;
  /** Earliest `runAt` of the version's queued tasks that are not yet runnable, for wake-ups. */
  nextRunAt(versionId: string): Promise<number | null>;
}

/** Folds per-status counts into queued and leased (RUNNING and CANCELLING) totals. */
export function queueCountsOf(rows: { status: TaskStatus; n: number }[]): QueueCounts {
  const byStatus: QueueCounts['byStatus'] = {};
  for (const r of rows) byStatus[r.status] = Number(r.n);
  return { queued: byStatus.QUEUED ?? 0, running: (byStatus.RUNNING ?? 0) + (byStatus.CANCELLING ?? 0), byStatus };
}

const queueOf = (t: TaskRecord): string => `${t.versionId}\u0000${t.priority}`;

/** The first task of each queue (a version and priority) among tasks just stored together. */
export function firstOfEachQueue(created: TaskRecord[]): TaskRecord[] {
  const seen = new Set<string>();
  return created.filter((t) => !seen.has(queueOf(t)) && seen.add(queueOf(t)));
}

/**
 * The positions of tasks just stored together, from the position of the first of each queue
 * among them: inside one queue they were inserted one after another, so each stands one behind
 * the one before it.
 */
export function positionsInBatch(created: TaskRecord[], positionOfFirst: (first: TaskRecord) => number): Map<string, number> {
  const next = new Map<string, number>();
  const positions = new Map<string, number>();
  for (const t of created) {
    const at = next.get(queueOf(t)) ?? positionOfFirst(t);
    positions.set(t.id, at);
    next.set(queueOf(t), at + 1);
  }
  return positions;
}
