import { backoffMs } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import type { TaskOutcome } from '../../core/outcomes.js';
import type { Store } from '../../store/store.js';
import type { ControlConfig } from '../control-config.js';
import type { Wakeups } from '../wakeups/wakeups.js';

/**
 * A consumer of the outcome feed (destinations, workflows, quota accounting): it gets every attempt's
 * end at least once, in feed order (each task's outcomes in the order they happened), in batches.
 */
export interface OutcomeSubscriber {
  /** The consumer's name in the feed, under which its cursor is stored: stable across restarts. */
  readonly name: string;
  /**
   * Handles a batch. Resolving acknowledges the whole batch; rejecting leaves it unacknowledged,
   * and it comes again after a back-off. A crash before the acknowledgement also brings it again,
   * under the same outcome ids, so a handler must tolerate repeats (de-duplicate by `id`).
   */
  handle(outcomes: TaskOutcome[]): Promise<void>;
}

type Settings = Pick<ControlConfig, 'outcomeBatch' | 'outcomePollMs' | 'outcomeRetentionMs'>;

/** How long a subscriber whose handler failed waits before the batch is tried again. */
const RETRY_MS = { min: 250, max: 30_000 };
const PRUNE_EVERY_MS = 60_000;
/**
 * How long a loop woken by an attempt's end waits before it reads: the ends of that stretch come
 * in one batch (one read and one acknowledgement for them all), not one each, which at low
 * concurrency would add three store calls to every task.
 */
const GATHER_MS = 20;

/**
 * Runs the outcome feed's subscribers on the leader replica: for each, reads batches past its
 * cursor, hands them over, acknowledges what was handled, and waits for the next attempt to end
 * (the `outcomes` wake-up, from any replica) or a poll period. It also prunes the feed.
 */
export class OutcomeDispatcher {
  private readonly subscribers: OutcomeSubscriber[] = [];
  private loops: Promise<void>[] = [];
  private running = false;
  private generation = 0;
  private sleepers: { wake: (afterMs: number) => void; byOutcome: boolean }[] = [];
  private offWakeup: (() => void) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<Store, 'outcomes'>,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
    private readonly settings: Settings,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Adds a subscriber; its loop runs from the next start (subscribe before the control plane starts). */
  subscribe(subscriber: OutcomeSubscriber): void {
    if (this.subscribers.some((s) => s.name === subscriber.name)) throw new Error(`an outcome subscriber named "${subscriber.name}" exists already`);
    this.subscribers.push(subscriber);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offWakeup = this.wakeups.on('outcomes', () => this.wake(false));
    this.loops = this.subscribers.map((s) => this.run(s));
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
  }

  /** Stops the loops once their batches in hand are handled and acknowledged. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.offWakeup?.();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.wake(true);
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Deletes outcomes every consumer is past, and those older than the retention. */
  private async prune(): Promise<void> {
    await this.store.outcomes.pruneOutcomes(this.clock.now() - this.settings.outcomeRetentionMs).catch(this.onError);
  }

  private async run(subscriber: OutcomeSubscriber): Promise<void> {
    const { outcomes } = this.store;
    let failures = 0;
    let registered = false;
    while (this.running) {
      const mark = this.generation;
      try {
        if (!registered) {
          await outcomes.registerConsumer(subscriber.name);
          registered = true;
        }
        const batch = await outcomes.readOutcomes(subscriber.name, this.settings.outcomeBatch);
        if (batch.length === 0) {
          failures = 0;
          // An attempt that ended between the read and now was announced: read again at once.
          if (mark === this.generation) await this.sleep(this.settings.outcomePollMs, true);
          continue;
        }
        await subscriber.handle(batch);
        await outcomes.ackOutcomes(subscriber.name, batch[batch.length - 1]!);
        failures = 0;
      } catch (err) {
        this.onError(err);
        failures++;
        await this.sleep(backoffMs(failures, RETRY_MS.min, RETRY_MS.max), false);
      }
    }
  }

  /** An attempt ended (wakes the loops waiting for one), or the dispatcher stops (wakes every loop). */
  private wake(stopping: boolean): void {
    this.generation++;
    const woken = this.sleepers.filter((s) => stopping || s.byOutcome);
    this.sleepers = this.sleepers.filter((s) => !woken.includes(s));
    for (const s of woken) s.wake(stopping ? 0 : GATHER_MS);
  }

  /** Sleeps `ms`, or less when the dispatcher stops or, `byOutcome`, when an attempt ends. A back-off is not cut short by traffic. */
  private sleep(ms: number, byOutcome: boolean): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        byOutcome,
        wake: (afterMs: number): void => {
          clearTimeout(timer);
          if (afterMs === 0) resolve();
          else setTimeout(resolve, afterMs);
        },
      };
      const timer = setTimeout(() => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      }, ms);
      this.sleepers.push(sleeper);
    });
  }
}
