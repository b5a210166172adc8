import type { TaskRecord } from '../../core/types.js';
import type { Wakeups } from './wakeups.js';

/**
 * Followers of single tasks: streams waiting for a task's next change, and invokes waiting for its
 * end. A change made through this replica wakes them at once; a task's end also reaches the other
 * replicas (the `ended` signal), and followers there see other changes on their poll, which keeps
 * per-log-line traffic off the bus.
 */
export class TaskWatchers {
  private readonly endWaiters = new Map<string, Set<(task: TaskRecord | null) => void>>();
  private readonly changeWatchers = new Map<string, Set<() => void>>();

  constructor(private readonly wakeups: Wakeups) {
    // Only other replicas send it (see `ended`): waiters read the task from the store.
    wakeups.on('ended', (s) => {
      this.settleEnd(s.taskId, null);
      this.changed(s.taskId);
    });
  }

  /** Something a follower of the task sees changed: its status, progress or logs. */
  changed(taskId: string): void {
    const watchers = this.changeWatchers.get(taskId);
    if (watchers) for (const w of watchers) w();
  }

  /** The task ended: its end waiters get it, its followers wake, and so do the other replicas'. */
  ended(task: TaskRecord): void {
    this.settleEnd(task.id, task);
    this.changed(task.id);
    this.wakeups.tellOthers({ kind: 'ended', taskId: task.id });
  }

  /**
   * Resolves at the task's next change, after `ms`, or on abort, whichever comes first. Call it
   * before reading the task, so a change between the read and the wait is not missed.
   */
  nextChange(taskId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.changeWatchers.get(taskId);
      if (!set) this.changeWatchers.set(taskId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.changeWatchers.get(taskId) === set) this.changeWatchers.delete(taskId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Resolves with the ended task; with null after `ms`, or at once when it ended on another replica. */
  waitForEnd(taskId: string, ms: number): Promise<TaskRecord | null> {
    return new Promise((resolve) => {
      let set = this.endWaiters.get(taskId);
      if (!set) this.endWaiters.set(taskId, (set = new Set()));
      const done = (task: TaskRecord | null): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.endWaiters.get(taskId) === set) this.endWaiters.delete(taskId);
        resolve(task);
      };
      const timer = setTimeout(() => done(null), ms);
      set.add(done);
    });
  }

  private settleEnd(taskId: string, task: TaskRecord | null): void {
    const waiters = this.endWaiters.get(taskId);
    if (waiters) {
      this.endWaiters.delete(taskId);
      for (const w of waiters) w(task);
    }
  }
}
