import { EventEmitter } from 'node:events';
import type { TaskRecord, TaskRef } from '../core/types.js';

/**
 * In-process signals between the control plane's parts and the agents it serves: work became
 * ready for a version, a task ended, a node's instances or a deployment changed, a cancel was
 * asked for. They only wake things up; the store stays the truth, so a missed signal costs a
 * poll period, never correctness.
 */
export class ControlEvents {
  private readonly readyWaiters = new Map<string, Set<() => void>>();
  private readonly endWaiters = new Map<string, Set<(task: TaskRecord) => void>>();
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Wakes claimers waiting for work on a version. */
  taskReady(versionId: string): void {
    const waiters = this.readyWaiters.get(versionId);
    if (!waiters) return;
    this.readyWaiters.delete(versionId);
    for (const wake of waiters) wake();
  }

  /** Resolves on the next `taskReady` of the version, or after `ms`, or on abort. */
  waitForReady(versionId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.readyWaiters.get(versionId);
      if (!set) this.readyWaiters.set(versionId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
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
