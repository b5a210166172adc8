import type pg from 'pg';
import type { Clock } from '../../core/clock.js';
import { type PoolOptions, createPool } from '../../store/postgres/connection.js';
import { toStoreError } from '../../store/postgres/store-errors.js';

export interface DatabaseClockOptions {
  /** The machine's own time; injectable so a test can skew it. */
  localNow?: () => number;
  /** Readings taken per synchronisation; the one with the shortest round trip is kept. */
  samples?: number;
  /** How often to synchronise again, so drift of the local clock is followed. */
  resampleMs?: number;
}

/**
 * The database server's time, read locally. Leases are written by one replica and judged by
 * another, so they must agree on the time even when a machine's clock is off: every replica takes
 * the time of the one PostgreSQL server. Asking the server on every `now()` would cost a round trip,
 * so the clock measures its offset from the local clock instead (NTP's idea): it reads
 * `clock_timestamp()` a few times, keeps the reading with the shortest round trip (the least
 * queueing), and assumes the server read its clock half-way through it. `now()` is then the local
 * time plus that offset, good to about half the round trip (well under a millisecond on a LAN).
 */
export class DatabaseClock implements Clock {
  private offset = 0;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private readonly localNow: () => number;
  private readonly samples: number;
  private readonly resampleMs: number;
  /** The pool the clock opened itself (see `connect`), ended with it. */
  private owned: pg.Pool | null = null;

  constructor(
    private readonly pool: pg.Pool,
    options: DatabaseClockOptions = {},
  ) {
    this.localNow = options.localNow ?? Date.now;
    this.samples = options.samples ?? 5;
    this.resampleMs = options.resampleMs ?? 30_000;
  }

  /**
   * A clock on a connection of its own (the store's pool may be busy, and a reading that waits in
   * its queue would skew the offset), synchronised and kept so until `stop()`.
   */
  static async connect(pool: Pick<PoolOptions, 'url' | 'connectionTimeoutMs'>, options: DatabaseClockOptions = {}): Promise<DatabaseClock> {
    const own = createPool({ ...pool, poolSize: 1, applicationName: 'ferry-clock' });
    try {
      const clock = await DatabaseClock.start(own, options);
      clock.owned = own;
      return clock;
    } catch (err) {
      await own.end().catch(() => {});
      throw err;
    }
  }

  /** A clock synchronised with the server through `pool` and kept so until `stop()`. */
  static async start(pool: pg.Pool, options: DatabaseClockOptions = {}): Promise<DatabaseClock> {
    const clock = new DatabaseClock(pool, options);
    await clock.sync();
    clock.timer = setInterval(() => {
      // A failed re-sync keeps the last offset: a clock that drifts for a while beats no clock.
      clock.sync().catch(() => {});
    }, clock.resampleMs);
    // The timer must not keep a process alive that is otherwise done.
    clock.timer.unref();
    return clock;
  }

  /** Epoch milliseconds on the database server's clock (whole, since times are stored as BIGINT). */
  now(): number {
    return Math.round(this.localNow() + this.offset);
  }

  /** Measures the offset again; concurrent calls share one measurement. */
  sync(): Promise<void> {
    this.syncing ??= this.measure().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** Stops re-synchronising (the clock keeps its last offset) and closes the pool it opened itself. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.owned?.end();
    this.owned = null;
  }

  private async measure(): Promise<void> {
    let best: { rtt: number; offset: number } | null = null;
    for (let i = 0; i < this.samples; i++) {
      const sent = this.localNow();
      const started = performance.now();
      let serverNow: number;
      try {
        const result = await this.pool.query<{ t: number }>('SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS t');
        serverNow = result.rows[0]!.t;
      } catch (err) {
        throw toStoreError(err);
      }
      // The round trip on the monotonic clock: the local wall clock may step while we wait.
      const rtt = performance.now() - started;
      const offset = serverNow - (sent + rtt / 2);
      if (best === null || rtt < best.rtt) best = { rtt, offset };
    }
    if (best) this.offset = best.offset;
  }
}
