import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../store/postgres/postgres-store.js';
import { DatabaseClock } from './database-clock.js';

const url = process.env.FERRY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const available = await reachable();
// Skipped where no PostgreSQL runs, except in CI, where a missing database must fail the run.
const suite = available || process.env.CI === 'true' ? describe : describe.skip;
if (!available && process.env.CI !== 'true') console.warn(`DatabaseClock tests skipped: ${url} is unreachable; set FERRY_TEST_POSTGRES_URL`);

suite('DatabaseClock', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });

  /** The database's time, bracketed by two readings of the clock under test. */
  async function bracket(clock: DatabaseClock): Promise<{ before: number; db: number; after: number }> {
    const before = clock.now();
    const result = await pool.query<{ t: number }>('SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS t');
    const after = clock.now();
    return { before, db: result.rows[0]!.t, after };
  }

  it('tells the database’s time even when the local clock is an hour off', async () => {
    for (const skew of [-3_600_000, 3_600_000, 7_919]) {
      const clock = await DatabaseClock.start(pool, { localNow: () => Date.now() + skew });
      try {
        const { before, db, after } = await bracket(clock);
        // Within a few ms: the reading sits between the two local readings, give or take rounding.
        expect(db).toBeGreaterThanOrEqual(before - 3);
        expect(db).toBeLessThanOrEqual(after + 3);
        expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
      } finally {
        await clock.stop();
      }
    }
  });

  it('follows a local clock that steps, at the next synchronisation', async () => {
    let skew = 0;
    const clock = await DatabaseClock.start(pool, { localNow: () => Date.now() + skew, resampleMs: 60_000 });
    try {
      skew = 10_000;
      expect(clock.now() - Date.now()).toBeGreaterThan(9_000);
      await clock.sync();
      const { before, db, after } = await bracket(clock);
      expect(db).toBeGreaterThanOrEqual(before - 3);
      expect(db).toBeLessThanOrEqual(after + 3);
    } finally {
      await clock.stop();
    }
  });

  it('re-synchronises on its timer until stopped', async () => {
    let skew = 0;
    const clock = await DatabaseClock.start(pool, { localNow: () => Date.now() + skew, resampleMs: 50 });
    skew = -5_000;
    const deadline = Date.now() + 2_000;
    while (Math.abs(clock.now() - Date.now()) > 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(Math.abs(clock.now() - Date.now())).toBeLessThanOrEqual(10);
    await clock.stop();
    skew = 5_000;
    await new Promise((r) => setTimeout(r, 200));
    expect(clock.now() - Date.now()).toBeGreaterThan(4_000);
  });

  it('reports STORE_UNAVAILABLE when it cannot reach the database at start', async () => {
    const dead = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 1_000 });
    try {
      await expect(DatabaseClock.start(dead)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      await dead.end();
    }
  });

  it('judges a store’s time as the database does, on a connection of its own', async () => {
    const clock = await DatabaseClock.connect({ url });
    const schema = `ferry_test_clock_${randomBytes(6).toString('hex')}`;
    const store = await PostgresStore.open({ url, schema, clock });
    try {
      const before = await store.now();
      const db = (await pool.query<{ t: number }>('SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS t')).rows[0]!.t;
      const after = await store.now();
      expect(db).toBeGreaterThanOrEqual(before - 5);
      expect(db).toBeLessThanOrEqual(after + 5);
    } finally {
      await store.close();
      await clock.stop();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});
