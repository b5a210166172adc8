import { Cron } from 'croner';
import { invalid } from './errors.js';

/** Missed ticks run at most this many at once on catch-up (the newest ones): a schedule down for a year does not flood its queue. */
export const MAX_CATCH_UP_TICKS = 1000;

/**
 * A cron schedule read in a time zone (croner: five fields, or six with seconds first, and the
 * `@daily` nicknames). Ticks are epoch milliseconds.
 */
export class CronSchedule {
  private readonly cron: Cron;

  /** Throws INVALID_REQUEST naming `schedule` or `timezone`. */
  constructor(schedule: string, timezone: string) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw invalid(`timezone: "${timezone}" is not an IANA time zone (such as "UTC" or "Europe/Paris")`);
    }
    try {
      this.cron = new Cron(schedule, { timezone, paused: true });
    } catch (err) {
      throw invalid(`schedule: "${schedule}" is not a cron expression: ${(err as Error).message}`);
    }
    if (this.cron.nextRun(new Date()) === null) throw invalid(`schedule: "${schedule}" never fires`);
  }

  /** The first tick after `after`, or null when there is none. */
  next(after: number): number | null {
    return this.cron.nextRun(new Date(after))?.getTime() ?? null;
  }

  /** The next `count` ticks after `after`. */
  upcoming(after: number, count: number): number[] {
    return this.cron.nextRuns(count, new Date(after)).map((d) => d.getTime());
  }

  /** The ticks in (after, through], oldest first; only the newest `max` of them when there are more. */
  between(after: number, through: number, max = MAX_CATCH_UP_TICKS): number[] {
    // Counted back from `through`, so a long gap costs `max` steps, not one per tick in it.
    return this.cron
      .previousRuns(max, new Date(through + 1))
      .map((d) => d.getTime())
      .filter((t) => t > after)
      .reverse();
  }
}
