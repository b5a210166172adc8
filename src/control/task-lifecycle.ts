import type { Clock } from '../core/clock.js';
import { isTerminalTask } from '../core/states.js';
import type { TaskRecord, TaskRef } from '../core/types.js';
import type { TaskObservers } from './task-observers.js';
import type { ClaimWaiters } from './wakeups/claim-waiters.js';
import type { TaskWatchers } from './wakeups/task-watchers.js';
import type { Wakeups } from './wakeups/wakeups.js';

/**
 * The one place that announces a task's moves, as the store made them, to whatever waits on them:
 * the claimers of its version (work ready now, or when a retry's back-off ends), its followers and
 * end waiters, the node running a cancelled attempt, the reconciler (the version's load changed),
 * the outcome feed's consumers (an attempt ended) and the metrics. Callers hand over the records
 * the store returned; what each status means is decided here.
 */
export class TaskLifecycle {
  private readonly wakeTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly wakeups: Wakeups,
    private readonly claimers: ClaimWaiters,
    private readonly watchers: TaskWatchers,
    private readonly observers: TaskObservers,
    private readonly clock: Clock,
  ) {}

  /** Tasks were stored; `leased`: what their enqueue handed to a waiting instance (often the task itself). */
  enqueued(tasks: TaskRecord[], leased: TaskRecord[]): void {
    const versions = new Set<string>();
    for (const t of tasks) {
      this.observers.submitted(t);
      if (t.status === 'QUEUED') this.claimers.taskReady(t.versionId);
      versions.add(t.versionId);
    }
    for (const t of leased) this.started(t);
    for (const versionId of versions) this.wakeups.emit({ kind: 'version', versionId });
  }

  /** Tasks were leased to an instance by its claim. */
  leased(versionId: string, tasks: TaskRecord[]): void {
    if (tasks.length === 0) return;
    for (const t of tasks) this.started(t);
    this.wakeups.emit({ kind: 'version', versionId });
  }

  /**
   * Tasks moved after their lease or in the queue (a completion, a cancel, a lease or instance
   * taken back, an expiry), each announced by the status it is in now: back in the queue as the next
   * attempt, CANCELLING (its node is told to stop it), or ended.
   */
  moved(tasks: TaskRecord[]): void {
    const versions = new Set<string>();
    let attemptsEnded = false;
    for (const t of tasks) {
      this.watchers.changed(t.id);
      if (t.status === 'CANCELLING') {
        if (t.nodeId) this.wakeups.emit({ kind: 'cancel', nodeId: t.nodeId, ref: { id: t.id, attempt: t.attempt } });
        continue;
      }
      if (t.status === 'QUEUED') this.readyAt(t.versionId, t.runAt);
      else if (isTerminalTask(t.status)) {
        this.observers.ended(t);
        this.watchers.ended(t);
      }
      attemptsEnded = true;
      versions.add(t.versionId);
    }
    for (const versionId of versions) this.wakeups.emit({ kind: 'version', versionId });
    if (attemptsEnded) this.wakeups.emit({ kind: 'outcomes' });
  }

  /** Tells the node running an attempt that was taken from it (re-queued or cancelled by an undeploy) to stop it. */
  stopAttempt(nodeId: string, ref: TaskRef): void {
    this.wakeups.emit({ kind: 'cancel', nodeId, ref });
  }

  /** Drops the pending back-off wake-ups. */
  stop(): void {
    for (const t of this.wakeTimers) clearTimeout(t);
    this.wakeTimers.clear();
  }

  private started(task: TaskRecord): void {
    this.watchers.changed(task.id);
    this.observers.started(task);
  }

  /** Wakes a claimer when a queued task becomes runnable: now, or when its retry's back-off ends. */
  private readyAt(versionId: string, runAt: number): void {
    const wait = runAt - this.clock.now();
    if (wait <= 0) {
      this.claimers.taskReady(versionId);
      return;
    }
    const timer = setTimeout(() => {
      this.wakeTimers.delete(timer);
      this.claimers.taskReady(versionId);
    }, wait);
    this.wakeTimers.add(timer);
  }
}
