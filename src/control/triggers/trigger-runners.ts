import { setTimeout as sleep } from 'node:timers/promises';
import type { TriggerKind, TriggerRecord } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';
import type { Wakeups } from '../wakeups/wakeups.js';

/** What keeps one trigger firing on the leader (a schedule's timer, a broker consumer): stopped when the trigger changes, pauses or goes. */
export interface TriggerRunner {
  /** Ends the runner once the event in hand is handled; resolves when it has. */
  stop(): Promise<void>;
}

export type RunnerFactory = (trigger: TriggerRecord) => TriggerRunner;

/**
 * A runner that is one loop: `run` goes until `stopped` aborts. A subclass calls `begin` at the
 * end of its constructor (once its own fields exist).
 */
export abstract class LoopRunner implements TriggerRunner {
  protected readonly stopped = new AbortController();
  private done: Promise<void> = Promise.resolve();

  protected begin(onError: (err: unknown) => void): void {
    this.done = this.run().catch(onError);
  }

  protected abstract run(): Promise<void>;

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.done;
  }

  /** Sleeps `ms`, or less when the runner stops. */
  protected async sleep(ms: number): Promise<void> {
    await sleep(Math.max(0, ms), undefined, { signal: this.stopped.signal }).catch(() => {});
  }
}

/** A trigger's stored cursor as epoch ms (cron ticks, READY times); before the first, its creation. */
export function timeCursor(trigger: TriggerRecord): number {
  return trigger.cursor === null ? trigger.createdAt : Number(trigger.cursor);
}

/**
 * Runs a runner for every trigger that is not paused, of the kinds that have one (webhooks need
 * none: any replica answers them), on the leader replica. It reads the triggers again when a
 * definition changes (the `triggers` wake-up, from any replica) and every `pollMs` besides, and
 * starts, restarts (the definition changed) or stops runners to match. Each runner is on its own:
 * one that fails does not touch the others.
 */
export class TriggerRunners {
  private readonly runners = new Map<string, { updatedAt: number; runner: TriggerRunner }>();
  private timer: NodeJS.Timeout | null = null;
  private offWakeup: (() => void) | null = null;
  /** The sync in progress, and whether another was asked for meanwhile. */
  private syncing: Promise<void> | null = null;
  private again = false;
  private running = false;

  constructor(
    private readonly store: Pick<Store, 'triggers'>,
    private readonly wakeups: Wakeups,
    private readonly factories: Partial<Record<TriggerKind, RunnerFactory>>,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offWakeup = this.wakeups.on('triggers', () => this.sync());
    this.timer = setInterval(() => this.sync(), this.pollMs);
    this.sync();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.offWakeup?.();
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    await Promise.all([...this.runners.values()].map((r) => r.runner.stop().catch(this.onError)));
    this.runners.clear();
  }

  private sync(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.syncOnce()
      .catch(this.onError)
      .finally(() => {
        this.syncing = null;
        if (this.again && this.running) {
          this.again = false;
          this.sync();
        }
      });
  }

  private async syncOnce(): Promise<void> {
    const kinds = Object.keys(this.factories) as TriggerKind[];
    const wanted = new Map((await this.store.triggers.listRunnableTriggers(kinds)).map((t) => [t.id, t]));
    if (!this.running) return;
    for (const [id, r] of this.runners) {
      if (wanted.get(id)?.updatedAt === r.updatedAt) continue;
      this.runners.delete(id);
      await r.runner.stop().catch(this.onError);
    }
    for (const [id, trigger] of wanted) {
      if (this.runners.has(id)) continue;
      this.runners.set(id, { updatedAt: trigger.updatedAt, runner: this.factories[trigger.kind]!(trigger) });
    }
  }
}
