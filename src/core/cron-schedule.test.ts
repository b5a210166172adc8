import { describe, expect, it } from 'vitest';
import { CronSchedule } from './cron-schedule.js';

const at = (iso: string) => Date.parse(iso);

describe('CronSchedule', () => {
  it('reads seconds when six fields are given, and five fields as minutes', () => {
    expect(new CronSchedule('*/10 * * * * *', 'UTC').upcoming(at('2026-12-03T13:00:01Z'), 2)).toEqual([at('2026-12-03T13:00:10Z'), at('2026-12-03T13:00:20Z')]);
    expect(new CronSchedule('30 * * * *', 'UTC').next(at('2026-12-03T13:00:00Z'))).toBe(at('2026-12-03T13:30:00Z'));
  });

  it('reads the schedule in its time zone, across a change of offset', () => {
    const nineInParis = new CronSchedule('0 9 * * *', 'Europe/Paris');
    expect(nineInParis.next(at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-29T07:00:00Z'));
    expect(nineInParis.next(at('2026-03-27T12:00:00Z'))).toBe(at('2026-03-28T08:00:00Z'));
  });

  it('lists the ticks of a gap, oldest first, bounded to the newest', () => {
    const everySecond = new CronSchedule('* * * * * *', 'UTC');
    const from = at('2026-12-03T13:00:00Z');
    expect(everySecond.between(from, from + 3000)).toEqual([from + 1000, from + 2000, from + 3000]);
    expect(everySecond.between(from, from + 3500)).toEqual([from + 1000, from + 2000, from + 3000]);
    expect(everySecond.between(from, from + 365 * 86_400_000, 2)).toEqual([from + 365 * 86_400_000 - 1000, from + 365 * 86_400_000]);
    expect(everySecond.between(from, from)).toEqual([]);
  });

  it('refuses a bad expression or time zone, naming the field', () => {
    expect(() => new CronSchedule('61 * * * *', 'UTC')).toThrow(/^schedule: "61 \* \* \* \*" is not a cron expression/);
    expect(() => new CronSchedule('* * *', 'UTC')).toThrow(/^schedule:/);
    expect(() => new CronSchedule('* * * * *', 'Mars/Olympus')).toThrow(/^timezone: "Mars\/Olympus" is not an IANA time zone/);
  });
});
