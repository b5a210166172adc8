import pg from 'pg';
import PgBoss from 'pg-boss';
import { allSteps, within, type Handler, type Payload, type PeerQueue } from './peer.js';
import { dropSchema, postgresUrl } from './postgres.js';

/**
 * pg-boss 10 on PostgreSQL, configured the way a user tuning for latency would:
 * - pg-boss only polls: a worker fetches, runs what it got, then sleeps until `pollingInterval`
 *   has passed since the fetch began (it skips the sleep only when less than 100 ms of it is left).
 *   We set `pollingIntervalSeconds: 0.5`, the smallest v10 accepts (its default is 2 s). So an idle
 *   worker finds a new job on average ~250 ms, at worst ~500 ms after it was stored, and one worker
 *   fetches at most one batch per 500 ms, whether or not the queue still has jobs.
 * - Concurrency: v10 dropped `teamSize`/`teamConcurrency`. We run one worker with
 *   `batchSize: concurrency` and run a batch's jobs concurrently, as the maintainer suggests for
 *   v10 (timgit/pg-boss#542). So at most `concurrency` jobs run at once, and at most `concurrency`
 *   start per 500 ms. (His other suggestion, calling work() `concurrency` times with batches of 1,
 *   has the same ceiling and polls `concurrency` times as often.) A batch is all-or-nothing in
 *   v10: it completes when every job in it has; one failure fails the batch.
 * - `boss.notifyWorker(id)` would skip the sleep, but only from inside the worker's process; a
 *   producer elsewhere (an API server) cannot, so it is not used.
 * - `supervise: false` and `schedule: false`: no maintenance loop (archiving, expiring) and no cron
 *   clock run during the benchmark, so none of their queries lands in a measurement. Completed jobs
 *   therefore stay in the job table until close() drops the schema.
 * - Its own schema, `ferry_bench_pgboss` (the default is `pgboss`), dropped by open() and close();
 *   its own standard queue (v10 needs `createQueue` before use).
 * - The connection pool (10, pg-boss's default size) is ours, handed to pg-boss as its `db`, so it
 *   is closed even when start() failed half-way.
 */
export function pgBossPeer(): PeerQueue {
  return new PgBossPeer();
}

const SCHEMA = 'ferry_bench_pgboss';
const QUEUE = 'ferry-bench';
const POLLING_INTERVAL_SECONDS = 0.5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class PgBossPeer implements PeerQueue {
  readonly name = 'pg-boss 10 (PostgreSQL)';
  readonly pollIntervalMs = POLLING_INTERVAL_SECONDS * 1000;
  private readonly url = postgresUrl();
  /** Whether open() got past its first drop: only then may a schema of ours exist again. */
  private touched = false;
  private pool: pg.Pool | null = null;
  private boss: PgBoss | null = null;
  private working = false;
  /** Batches whose handler is running: pg-boss offers no way to wait for them. */
  private running = 0;

  async open(): Promise<void> {
    if (this.pool) throw new Error(`${this.name}: already open`);
    await dropSchema(this.url, SCHEMA);
    this.touched = true;
    const pool = new pg.Pool({ connectionString: this.url, max: 10, connectionTimeoutMillis: 10_000 });
    pool.on('error', (err) => process.stderr.write(`[pg-boss pool] ${err.message}\n`));
    this.pool = pool;
    const boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: SCHEMA,
      supervise: false,
      schedule: false,
      migrate: true,
      pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
    });
    // An 'error' event without a listener would throw; pg-boss emits one for each failed fetch.
    boss.on('error', (err) => process.stderr.write(`[pg-boss] ${err.message}\n`));
    this.boss = boss;
    await boss.start();
    await boss.createQueue(QUEUE);
  }

  async startWorker(concurrency: number, handler: Handler): Promise<void> {
    const boss = this.requireBoss();
    if (this.working) throw new Error(`${this.name}: a worker is already running`);
    this.working = true;
    // work() starts the loop at once, its first fetch included: ready when it returns.
    await boss.work<Payload>(QUEUE, { batchSize: concurrency, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, async (jobs) => {
      this.running++;
      try {
        await Promise.all(jobs.map((job) => handler(job.data)));
      } finally {
        this.running--;
      }
    });
  }

  async stopWorker(): Promise<void> {
    if (!this.working || !this.boss) return;
    this.working = false;
    // offWork() stops the loop but does not wait for it. A fetch already sent may still hand a
    // batch to the handler, so the worker counts as stopped once no batch has run for 100 ms
    // (a fetch on a local PostgreSQL takes a few ms), bounded at 30 s.
    await this.boss.offWork(QUEUE);
    const deadline = Date.now() + 30_000;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if (this.running > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 100) return;
      await sleep(10);
    }
    throw new Error(`${this.name}: jobs still running 30 s after the worker was told to stop`);
  }

  async enqueue(payload: Payload): Promise<void> {
    const id = await this.requireBoss().send(QUEUE, payload);
    if (id === null) throw new Error(`${this.name}: send stored no job`);
  }

  async enqueueMany(payloads: Payload[]): Promise<void> {
    await this.requireBoss().insert(payloads.map((data) => ({ name: QUEUE, data })));
  }

  async purge(): Promise<void> {
    // Deletes the queue's jobs that are not active yet (created, retry).
    await this.requireBoss().purgeQueue(QUEUE);
  }

  async close(): Promise<void> {
    const { boss, pool } = this;
    await allSteps([
      () => this.stopWorker(),
      async () => boss && (await within(boss.stop({ graceful: true, wait: true, timeout: 5_000 }), 15_000, 'pg-boss stop')),
      async () => this.touched && (await dropSchema(this.url, SCHEMA)),
      async () => pool && (await pool.end()),
    ]).finally(() => {
      this.boss = null;
      this.pool = null;
      this.working = false;
      this.touched = false;
    });
  }

  private requireBoss(): PgBoss {
    if (!this.boss) throw new Error(`${this.name}: not open`);
    return this.boss;
  }
}
