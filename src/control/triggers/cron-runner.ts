import { backoffMs } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { CronSchedule } from '../../core/cron-schedule.js';
import type { TriggerRecord } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';
import { RunnerHealth, isRefusal } from './runner-health.js';
import { LoopRunner, timeCursor } from './trigger-runners.js';
import type { TriggersService } from './triggers-service.js';

/** The longest a runner sleeps at once: a clock that jumps is noticed within this. */
const MAX_SLEEP_MS = 60_000;
const RETRY_MS = { min: 250, max: 30_000 };

/**
 * Fires a cron trigger's ticks, each once: the tick's time is its event key, so a tick fired again
 * (after a crash between the task and the cursor, or by a leader that took over) finds its task.
 * The cursor (the last tick handled) is stored with each fire; ticks between it and now when the
 * runner starts were missed while no leader ran them: with `catchUp` each runs once (the newest
 * MAX_CATCH_UP_TICKS), without it they are skipped. A tick the trigger's own state refuses (its
 * function not deployed) puts it in ERROR and is skipped; one the store could not take is tried again.
 */
export class CronRunner extends LoopRunner {
  constructor(
    private readonly trigger: Extract<TriggerRecord, { kind: 'cron' }>,
    private readonly triggers: TriggersService,
    private readonly store: Pick<Store, 'triggers'>,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {
    super();
    this.begin(onError);
  }

  protected async run(): Promise<void> {
    const { cron } = this.trigger;
    const schedule = new CronSchedule(cron.schedule, cron.timezone);
    const health = new RunnerHealth(this.store, this.trigger, this.onError);
    const stored = timeCursor(this.trigger);
    let after = cron.catchUp ? stored : Math.max(stored, this.clock.now());
    let failures = 0;
    while (!this.stopped.signal.aborted) {
      const due = schedule.between(after, this.clock.now());
      for (const tick of due) {
        if (this.stopped.signal.aborted) return;
        try {
          await this.triggers.fire(this.trigger, { key: String(tick), event: { triggerId: this.trigger.id, scheduledAt: new Date(tick).toISOString() }, input: { scheduledAt: new Date(tick).toISOString() }, cursor: String(tick) });
          await health.ok();
        } catch (err) {
          if (!isRefusal(err)) {
            // The store (or the submit path) failed: this tick again, after a back-off.
            this.onError(err);
            await this.sleep(backoffMs(++failures, RETRY_MS.min, RETRY_MS.max));
            break;
          }
          await health.failed(`tick ${new Date(tick).toISOString()}: ${err.message}`);
          await this.store.triggers.setTriggerCursor(this.trigger.id, String(tick)).catch(this.onError);
        }
        failures = 0;
        after = tick;
      }
      if (failures > 0) continue;
      // The first tick not yet handled: if it came meanwhile, the next round fires it at once.
      const next = schedule.next(after);
      if (next === null) return;
      await this.sleep(Math.min(MAX_SLEEP_MS, next - this.clock.now()));
    }
  }

}
