import { EventEmitter } from 'node:events';
import type { Signal, SignalBus } from '../core/replicas.js';
import type { TaskRecord, TaskRef } from '../core/types.js';

/**
 * How a wait for work ends: `true`, woken to claim; `false`, timed out or aborted; a list, tasks
 * already leased to the waiter by an enqueue that found it waiting.
 */
export type WakeUp = boolean | TaskRecord[];

/** Signals delivered to every listener of an event name, not to one waiter or one node. */
type BroadcastKind = 'version' | 'instance-ready' | 'instance-failed' | 'capacity' | 'deployment-reset' | 'fleet';

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

/** Points in tasks' lives as this replica makes them happen, for metrics. Each call must be cheap: they run on the dispatch path. */
export interface TaskObserver {
  submitted(task: TaskRecord): void;
  /** Leased to an instance for an attempt. */
  started(task: TaskRecord): void;
  ended(task: TaskRecord): void;
}

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/**
 * Signals between the control plane's parts and the agents it serves: work became ready for a
 * version, a task ended, a node's instances or a deployment changed, a cancel was asked for, an
 * instance became ready or failed, capacity freed. They only wake things up; the store stays the
 * truth, so a missed signal costs a poll period, never correctness. With a `SignalBus` (several
 * replicas on one PostgreSQL) each signal also reaches the other replicas, so a claim waiting on
 * one replica wakes for an enqueue on another, and the leader's reconciler hears every replica.
 */
export class ControlEvents {
  private readonly readyWaiters = new Map<string, ReadyWaiters>();
  private readonly endWaiters = new Map<string, Set<(task: TaskRecord | null) => void>>();
  private readonly taskWatchers = new Map<string, Set<() => void>>();
  private readonly observers = new Set<TaskObserver>();
  private readonly emitter = new EventEmitter();

  constructor(private readonly bus: SignalBus | null = null) {
    this.emitter.setMaxListeners(0);
    bus?.onSignal((signal) => this.apply(signal));
  }

  /** Acts on a signal in this replica, whether it was raised here or by another; never publishes. */
  private apply(signal: Signal): void {
    switch (signal.kind) {
      case 'ready':
        this.wakeOne(signal.versionId);
        return;
      case 'ended':
        // Only other replicas send it (see taskEnded): waiters read the task from the store.
        this.settleEnd(signal.taskId, null);
        this.taskChanged(signal.taskId);
        return;
      case 'cancel':
        this.emitter.emit(`cancel:${signal.nodeId}`, signal.ref);
        return;
      case 'assignments':
        this.emitter.emit(`assignments:${signal.nodeId}`);
        return;
      case 'version':
      case 'instance-ready':
      case 'instance-failed':
      case 'capacity':
      case 'deployment-reset':
      case 'fleet':
        this.emitter.emit(signal.kind, signal);
        return;
      default:
        // A kind this replica does not know (a newer one, in a rolling upgrade): ignored.
        signal satisfies never;
    }
  }

  private signal(signal: Signal): void {
    this.apply(signal);
    this.bus?.publish(signal);
  }

  /**
   * Work became ready on a version: wakes one waiting claimer, an idle instance's before a busy
   * one's, so work goes to idle instances first. A claimer that takes a full batch passes the
   * signal on (`taskReady` again), so a burst still reaches every waiter, one claim each, without
   * a herd of empty claims.
   */
  taskReady(versionId: string): void {
    // Other replicas' claimers hear of it only when no idle one here takes it.
    if (!this.wakeOne(versionId)) this.bus?.publish({ kind: 'ready', versionId });
  }

  /** Wakes one waiter of the version; true when it was an idle instance's. */
  private wakeOne(versionId: string): boolean {
    const waiters = this.waitersOf(versionId);
    waiters.generation++;
    const idle = first(waiters.idle);
    (idle ?? first(waiters.busy))?.settle(true);
    return idle !== undefined;
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

  /** Registers an observer of the tasks this replica stores, leases and ends; returns its removal. */
  observeTasks(observer: TaskObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  taskSubmitted(task: TaskRecord): void {
    for (const o of this.observers) o.submitted(task);
  }

  /** Tasks were leased to an instance: their followers and observers hear of it. */
  tasksStarted(tasks: TaskRecord[]): void {
    for (const t of tasks) {
      this.taskChanged(t.id);
      for (const o of this.observers) o.started(t);
    }
  }

  taskEnded(task: TaskRecord): void {
    for (const o of this.observers) o.ended(task);
    this.settleEnd(task.id, task);
    this.taskChanged(task.id);
    this.bus?.publish({ kind: 'ended', taskId: task.id });
  }

  /**
   * Something a follower of the task sees changed: its status, progress or logs. It wakes the
   * task's followers in this replica only (a task's end also reaches the others, see taskEnded);
   * followers elsewhere see the rest on their poll, which keeps per-log-line traffic off the bus.
   */
  taskChanged(taskId: string): void {
    const watchers = this.taskWatchers.get(taskId);
    if (watchers) for (const w of watchers) w();
  }

  /**
   * Resolves at the task's next change, after `ms`, or on abort, whichever comes first. Call it
   * before reading the task, so a change between the read and the wait is not missed.
   */
  nextTaskChange(taskId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.taskWatchers.get(taskId);
      if (!set) this.taskWatchers.set(taskId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.taskWatchers.get(taskId) === set) this.taskWatchers.delete(taskId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
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

  /** The work or instances of a version changed: the reconciler should look at it. */
  versionChanged(versionId: string): void {
    this.signal({ kind: 'version', versionId });
  }

  onVersionChanged(listener: (versionId: string) => void): () => void {
    return this.on('version', (s) => listener(s.versionId));
  }

  /** An instance of the version became ready: the version starts fine. */
  instanceReady(versionId: string): void {
    this.signal({ kind: 'instance-ready', versionId });
  }

  onInstanceReady(listener: (versionId: string) => void): () => void {
    return this.on('instance-ready', (s) => listener(s.versionId));
  }

  /** An instance of the version failed to start or crashed. */
  instanceFailed(versionId: string, reason: string): void {
    this.signal({ kind: 'instance-failed', versionId, reason });
  }

  onInstanceFailed(listener: (versionId: string, reason: string) => void): () => void {
    return this.on('instance-failed', (s) => listener(s.versionId, s.reason));
  }

  /** A node joined or an instance ended: deployments waiting for room may fit now. */
  capacityChanged(): void {
    this.signal({ kind: 'capacity' });
  }

  onCapacityChanged(listener: () => void): () => void {
    return this.on('capacity', () => listener());
  }

  /** A version was deployed afresh or undeployed: its scaling memory starts over. */
  deploymentReset(versionId: string): void {
    this.signal({ kind: 'deployment-reset', versionId });
  }

  onDeploymentReset(listener: (versionId: string) => void): () => void {
    return this.on('deployment-reset', (s) => listener(s.versionId));
  }

  /** A deployment event was written: followers of the fleet's events read again. */
  fleetChanged(): void {
    this.signal({ kind: 'fleet' });
  }

  onFleetChanged(listener: () => void): () => void {
    return this.on('fleet', () => listener());
  }

  assignmentsChanged(nodeId: string): void {
    this.signal({ kind: 'assignments', nodeId });
  }

  onAssignmentsChanged(nodeId: string, listener: () => void): () => void {
    this.emitter.on(`assignments:${nodeId}`, listener);
    return () => this.emitter.off(`assignments:${nodeId}`, listener);
  }

  cancelRequested(nodeId: string, ref: TaskRef): void {
    this.signal({ kind: 'cancel', nodeId, ref });
  }

  onCancelRequested(nodeId: string, listener: (ref: TaskRef) => void): () => void {
    this.emitter.on(`cancel:${nodeId}`, listener);
    return () => this.emitter.off(`cancel:${nodeId}`, listener);
  }

  private on<K extends BroadcastKind>(kind: K, listener: (signal: Extract<Signal, { kind: K }>) => void): () => void {
    const l = listener as (signal: Signal) => void;
    this.emitter.on(kind, l);
    return () => this.emitter.off(kind, l);
  }
}
