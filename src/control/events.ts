import { EventEmitter } from 'node:events';
import type { TaskRecord, TaskRef } from '../core/types.js';

/**
 * How a wait for work ends: `true`, woken to claim; `false`, timed out or aborted; a list, tasks
 * already leased to the waiter by an enqueue that found it waiting.
 */
export type WakeUp = boolean | TaskRecord[];

interface Waiter {
  instanceId: string;
  /** Stops the timer and the abort listener and leaves the list: from then on only `settle` ends it. */
  disarm(): void;
  settle(result: WakeUp): void;
}

interface ReadyWaiters {
  /** Counts `taskReady` calls, so a claimer can tell whether work arrived since it looked. */
  generation: number;
  idle: Set<Waiter>;
  busy: Set<Waiter>;
}

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/**
 * In-process signals between the control plane's parts and the agents it serves: work became
 * ready for a version, a task ended, a node's instances or a deployment changed, a cancel was
 * asked for. They only wake things up; the store stays the truth, so a missed signal costs a
 * poll period, never correctness.
 */
export class ControlEvents {
  private readonly readyWaiters = new Map<string, ReadyWaiters>();
  private readonly endWaiters = new Map<string, Set<(task: TaskRecord) => void>>();
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /**
   * Work became ready on a version: wakes one waiting claimer, an idle instance's before a busy
   * one's, so work goes to idle instances first. A claimer that takes a full batch passes the
   * signal on (`taskReady` again), so a burst still reaches every waiter, one claim each, without
   * a herd of empty claims.
   */
  taskReady(versionId: string): void {
    const waiters = this.waitersOf(versionId);
    waiters.generation++;
    (first(waiters.idle) ?? first(waiters.busy))?.settle(true);
  }

  /**
   * Takes a waiting claimer of a version off the list (idle instances first, then busy ones with
   * free slots, each longest-waiting first) for an enqueue to hand work to directly; `deliver`
   * must then be called once, with what was leased to it (none: it claims for itself). Null when
   * nobody waits.
   */
  takeWaiter(versionId: string): { instanceId: string; deliver(tasks: TaskRecord[]): void } | null {
    const waiters = this.readyWaiters.get(versionId);
    const waiter = waiters && (first(waiters.idle) ?? first(waiters.busy));
    if (!waiter) return null;
    waiter.disarm();
    return { instanceId: waiter.instanceId, deliver: (tasks) => waiter.settle(tasks.length > 0 ? tasks : true) };
  }

  /** A mark to pass to `waitForReady`: work that becomes ready after it is never missed. */
  readyMark(versionId: string): number {
    return this.readyWaiters.get(versionId)?.generation ?? 0;
  }

  /** Whether an idle instance is waiting for work on the version. */
  hasIdleWaiter(versionId: string): boolean {
    return (this.readyWaiters.get(versionId)?.idle.size ?? 0) > 0;
  }

  /**
   * Waits for work on a version (see `WakeUp`), at once true if some became ready after `since`,
   * false after `ms` or on abort. `instanceId` lets an enqueue lease work to this waiter directly.
   */
  waitForReady(versionId: string, wait: { since: number; idle: boolean; ms: number; instanceId: string }, signal?: AbortSignal): Promise<WakeUp> {
    const waiters = this.waitersOf(versionId);
    if (waiters.generation !== wait.since) return Promise.resolve(true);
    const set = wait.idle ? waiters.idle : waiters.busy;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        instanceId: wait.instanceId,
        disarm: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          set.delete(waiter);
        },
        settle: (result) => {
          waiter.disarm();
          resolve(result);
        },
      };
      const onAbort = (): void => waiter.settle(false);
      const timer = setTimeout(onAbort, wait.ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }

  private waitersOf(versionId: string): ReadyWaiters {
    let waiters = this.readyWaiters.get(versionId);
    if (!waiters) this.readyWaiters.set(versionId, (waiters = { generation: 0, idle: new Set(), busy: new Set() }));
    return waiters;
  }

  taskEnded(task: TaskRecord): void {
    const waiters = this.endWaiters.get(task.id);
    if (waiters) {
      this.endWaiters.delete(task.id);
      for (const w of waiters) w(task);
    }
  }

  /** Resolves with the ended task, or null after `ms`. */
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

  /** The work or instances of a version changed: the reconciler should look at it. */
  versionChanged(versionId: string): void {
    this.emitter.emit('version', versionId);
  }

  onVersionChanged(listener: (versionId: string) => void): () => void {
    this.emitter.on('version', listener);
    return () => this.emitter.off('version', listener);
  }

  assignmentsChanged(nodeId: string): void {
    this.emitter.emit(`assignments:${nodeId}`);
  }

  onAssignmentsChanged(nodeId: string, listener: () => void): () => void {
    this.emitter.on(`assignments:${nodeId}`, listener);
    return () => this.emitter.off(`assignments:${nodeId}`, listener);
  }

  cancelRequested(nodeId: string, ref: TaskRef): void {
    this.emitter.emit(`cancel:${nodeId}`, ref);
  }

  onCancelRequested(nodeId: string, listener: (ref: TaskRef) => void): () => void {
    this.emitter.on(`cancel:${nodeId}`, listener);
    return () => this.emitter.off(`cancel:${nodeId}`, listener);
  }
}
