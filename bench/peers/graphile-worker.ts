import { EventEmitter } from 'node:events';
import { Logger, makeWorkerUtils, run, type Runner, type WorkerEvents, type WorkerUtils } from 'graphile-worker';
import { allSteps, within, type Handler, type Payload, type PeerQueue } from './peer.js';
import { dropSchema, postgresUrl } from './postgres.js';

/**
 * graphile-worker 0.17 on PostgreSQL, configured the way a user tuning for latency would:
 * - New jobs reach the worker by LISTEN/NOTIFY (its default): adding a job notifies, an idle
 *   worker fetches at once. `pollInterval` stays at its default 2 s: it only matters for jobs
 *   scheduled in the future and retries, which this benchmark has none of.
 * - `concurrency` is the runner option of that name; the runner's pool gets `concurrency + 2`
 *   connections (at least 10), as the library's docs recommend, so no job waits for a client.
 * - `localQueue` (batch-fetching jobs into the process) and `completeJobBatchDelay` (batching
 *   completions) stay off, their defaults: both trade latency for database load.
 * - Its own schema, `ferry_bench_graphile` (the default is `graphile_worker`), dropped by open()
 *   and close(). Completed jobs are deleted by graphile-worker itself.
 * - `noHandleSignals: true`: the benchmark owns SIGINT/SIGTERM. A quiet logger prints errors only.
 * - Enqueues go through WorkerUtils (`addJob`, `addJobs` for bulk) on a pool of their own, as a
 *   producer in another process would.
 */
export function graphileWorkerPeer(): PeerQueue {
  return new GraphileWorkerPeer();
}

const SCHEMA = 'ferry_bench_graphile';
const TASK = 'ferry_bench';

/** Errors only: the info lines (worker started, job completed) would flood the benchmark's output. */
const quietLogger = new Logger(() => (level, message) => {
  if (String(level) === 'error') process.stderr.write(`[graphile-worker] ${message}\n`);
});

class GraphileWorkerPeer implements PeerQueue {
  readonly name = 'graphile-worker 0.17 (PostgreSQL)';
  private readonly url = postgresUrl();
  /** Whether open() got past its first drop: only then may a schema of ours exist again. */
  private touched = false;
  private utils: WorkerUtils | null = null;
  private runner: Runner | null = null;

  async open(): Promise<void> {
    if (this.utils) throw new Error(`${this.name}: already open`);
    await dropSchema(this.url, SCHEMA);
    this.touched = true;
    this.utils = await makeWorkerUtils({ connectionString: this.url, schema: SCHEMA, logger: quietLogger });
    await this.utils.migrate();
  }

  async startWorker(concurrency: number, handler: Handler): Promise<void> {
    if (!this.utils) throw new Error(`${this.name}: not open`);
    if (this.runner) throw new Error(`${this.name}: a worker is already running`);
    const events = new EventEmitter() as WorkerEvents;
    // Ready means listening: a job added before LISTEN would wait for the next poll.
    const listening = new Promise<void>((resolve) => events.once('pool:listen:success', () => resolve()));
    this.runner = await run({
      connectionString: this.url,
      schema: SCHEMA,
      concurrency,
      maxPoolSize: Math.max(10, concurrency + 2),
      noHandleSignals: true,
      logger: quietLogger,
      events,
      crontab: '',
      taskList: { [TASK]: (payload) => handler(payload as Payload) },
    });
    await within(listening, 10_000, 'graphile-worker LISTEN');
  }

  async stopWorker(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    // A graceful stop: running jobs finish, then the runner's pool is released.
    if (runner) await runner.stop();
  }

  async enqueue(payload: Payload): Promise<void> {
    await this.requireUtils().addJob(TASK, payload);
  }

  async enqueueMany(payloads: Payload[]): Promise<void> {
    await this.requireUtils().addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
  }

  async purge(): Promise<void> {
    const utils = this.requireUtils();
    // Unlocked jobs are the ones no worker holds; completing a job deletes it.
    const ids = await utils.withPgClient(async (client) => {
      const res = await client.query<{ id: string }>(`SELECT id::text AS id FROM ${SCHEMA}.jobs WHERE locked_at IS NULL`);
      return res.rows.map((r) => r.id);
    });
    if (ids.length > 0) await utils.completeJobs(ids);
  }

  async close(): Promise<void> {
    const utils = this.utils;
    this.utils = null;
    const touched = this.touched;
    this.touched = false;
    await allSteps([() => this.stopWorker(), async () => utils && (await utils.release()), async () => touched && (await dropSchema(this.url, SCHEMA))]);
  }

  private requireUtils(): WorkerUtils {
    if (!this.utils) throw new Error(`${this.name}: not open`);
    return this.utils;
  }
}
