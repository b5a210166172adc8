import type { TaskRecord } from '../../core/types.js';
import type { Wakeups } from './wakeups.js';

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
 * Hands work to the instances waiting to claim it (the agents' long-polls), an idle instance's
 * claim before a busy one's, so work goes to idle instances first. Work that becomes ready on
 * another replica wakes a claimer here through the `ready` signal.
 */
export class ClaimWaiters {
  private readonly readyWaiters = new Map<string, ReadyWaiters>();

  constructor(private readonly wakeups: Wakeups) {
    wakeups.on('ready', (s) => this.wakeOne(s.versionId));
  }

  /**
   * Work became ready on a version: wakes one waiting claimer. A claimer that takes a full batch
   * passes the signal on (`taskReady` again), so a burst still reaches every waiter, one claim
   * each, without a herd of empty claims.
   */
  taskReady(versionId: string): void {
    // Other replicas' claimers hear of it only when no idle one here takes it.
    if (!this.wakeOne(versionId)) this.wakeups.tellOthers({ kind: 'ready', versionId });
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
}
