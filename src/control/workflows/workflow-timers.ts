import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import { TIMEOUT_TIMER } from '../../core/workflows/workflow.js';
import type { Store } from '../../store/store.js';
import type { Wakeups } from '../wakeups/wakeups.js';
import type { ExecutionDriver } from './execution-driver.js';

/** Timers handled at once. */
const BATCH = 64;

/**
 * The leader's loop that fires executions' timers when they are due: a Wait state's end, a
 * retry's back-off, an execution's timeout. It sleeps until the earliest timer, or the poll
 * period, or a `workflows` wake-up (a timer was set, on any replica). A timer is removed in the
 * step that handled it, so a crash in between fires it again, which changes nothing the second time.
 * As it starts, it has the driver cancel the tasks ended executions left running.
 */
export class WorkflowTimers {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: AbortController | null = null;
  private offWakeup: (() => void) | null = null;

  constructor(
    private readonly store: Pick<Store, 'workflows'>,
    private readonly driver: ExecutionDriver,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.offWakeup = this.wakeups.on('workflows', () => this.wakeUp?.abort());
    this.loop = this.run();
    // A new leader also finishes the cancels a crashed one had not sent.
    void this.driver.cancelLeftovers().catch(this.onError);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.offWakeup?.();
    this.wakeUp?.abort();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let waitMs = this.pollMs;
      let full = false;
      let failed = false;
      // Armed before the read: a timer set while reading wakes the sleep that follows.
      this.wakeUp = new AbortController();
      try {
        const due = await this.store.workflows.dueTimers(this.clock.now(), BATCH);
        full = due.length === BATCH;
        await Promise.all(
          due.map((t) =>
            this.driver.apply(t.executionId, { events: [t.key === TIMEOUT_TIMER ? { type: 'timeout' } : { type: 'timer', key: t.key }], firedTimers: [t.key] }).catch((err: unknown) => {
              failed = true;
              this.onError(err);
            }),
          ),
        );
        const next = await this.store.workflows.nextTimerAt();
        if (next !== null) waitMs = Math.min(waitMs, Math.max(0, next - this.clock.now()));
      } catch (err) {
        failed = true;
        this.onError(err);
      }
      // A timer that could not be handled is still due: it is tried again a poll period later, not at once.
      if (failed) waitMs = this.pollMs;
      else if (full) continue;
      await sleep(waitMs, undefined, { signal: this.wakeUp.signal }).catch(() => {});
    }
  }
}
