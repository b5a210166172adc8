import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { allSteps, within, type Handler, type Payload, type PeerQueue } from './peer.js';

/**
 * BullMQ 6 on Redis, configured the way a user tuning for latency would, which here is mostly its
 * defaults:
 * - The worker blocks on Redis (BZPOPMIN on the queue's marker key, its default), so a new job
 *   wakes it at once; nothing polls. `drainDelay` (how long one blocking call waits on an empty
 *   queue before it is re-issued) stays at its default 5 s: it costs no latency.
 * - `concurrency` is the Worker option of that name: one worker, that many jobs at a time.
 * - Jobs are added with `removeOnComplete: true` (and `removeOnFail: true`), so finished jobs
 *   leave no keys behind and the keyspace does not grow over a run.
 * - Every key lives under the prefix `ferry-bench` (BullMQ's default is `bull`): open() and
 *   close() delete `ferry-bench:*` and nothing else.
 * - The queue and the worker have connections of their own, as a producer and a worker process
 *   would; the worker's blocking connection is a third, made by BullMQ.
 * - No QueueEvents, metrics or rate limiter: none is needed to run a job, and each costs Redis
 *   round trips.
 */
export function bullmqPeer(): PeerQueue {
  return new BullmqPeer();
}

const PREFIX = 'ferry-bench';
const QUEUE = 'peer';
const JOB = 'job';

function redisUrl(): string {
  return process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * A connection BullMQ accepts for a worker (no per-command retry limit), which gives up after a
 * few failed reconnects, so a Redis that went away fails the benchmark instead of hanging it.
 */
function connect(): Redis {
  return new Redis(redisUrl(), {
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    retryStrategy: (times) => (times > 5 ? null : 200),
  });
}

async function quit(redis: Redis): Promise<void> {
  await within(redis.quit(), 5_000, 'redis quit').catch(() => redis.disconnect());
}

class BullmqPeer implements PeerQueue {
  readonly name = 'BullMQ 6 (Redis)';
  private redis: Redis | null = null;
  private queue: Queue<Payload, void, string> | null = null;
  private worker: Worker<Payload, void, string> | null = null;
  private workerRedis: Redis | null = null;

  async open(): Promise<void> {
    if (this.redis) throw new Error(`${this.name}: already open`);
    const redis = connect();
    redis.on('error', () => {
      // Reported by the command that fails; without a listener ioredis would print each retry.
    });
    this.redis = redis;
    await within(redis.ping(), 10_000, 'redis ping');
    await this.deleteOwnKeys();
    this.queue = new Queue<Payload, void, string>(QUEUE, {
      connection: redis,
      prefix: PREFIX,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    this.queue.on('error', (err) => process.stderr.write(`[bullmq queue] ${err.message}\n`));
    await this.queue.waitUntilReady();
  }

  async startWorker(concurrency: number, handler: Handler): Promise<void> {
    if (!this.redis) throw new Error(`${this.name}: not open`);
    if (this.worker) throw new Error(`${this.name}: a worker is already running`);
    const redis = connect();
    redis.on('error', () => {});
    this.workerRedis = redis;
    const worker = new Worker<Payload, void, string>(QUEUE, (job) => handler(job.data), { connection: redis, prefix: PREFIX, concurrency });
    worker.on('error', (err) => process.stderr.write(`[bullmq worker] ${err.message}\n`));
    this.worker = worker;
    await within(worker.waitUntilReady(), 10_000, 'bullmq worker start');
  }

  async stopWorker(): Promise<void> {
    const { worker, workerRedis } = this;
    this.worker = null;
    this.workerRedis = null;
    await allSteps([
      // close() without force waits for the jobs that are running.
      async () => worker && (await worker.close()),
      async () => workerRedis && (await quit(workerRedis)),
    ]);
  }

  async enqueue(payload: Payload): Promise<void> {
    await this.requireQueue().add(JOB, payload);
  }

  async enqueueMany(payloads: Payload[]): Promise<void> {
    await this.requireQueue().addBulk(payloads.map((data) => ({ name: JOB, data })));
  }

  async purge(): Promise<void> {
    // Waiting, prioritized and (with `true`) delayed jobs; running ones are the worker's.
    await this.requireQueue().drain(true);
  }

  async close(): Promise<void> {
    const { queue, redis } = this;
    await allSteps([
      () => this.stopWorker(),
      async () => queue && (await queue.obliterate({ force: true })),
      async () => queue && (await queue.close()),
      async () => redis && redis.status === 'ready' && (await this.deleteOwnKeys()),
      async () => redis && (await quit(redis)),
    ]).finally(() => {
      this.queue = null;
      this.redis = null;
    });
  }

  private requireQueue(): Queue<Payload, void, string> {
    if (!this.queue) throw new Error(`${this.name}: not open`);
    return this.queue;
  }

  /** Deletes every key under our prefix (leftovers of a run that did not end cleanly). */
  private async deleteOwnKeys(): Promise<void> {
    const redis = this.redis!;
    let cursor = '0';
    // SCAN ends when the cursor comes back to 0; the cap is only a guard.
    for (let round = 0; round < 100_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') return;
    }
    throw new Error(`${this.name}: SCAN of ${PREFIX}:* did not end`);
  }
}
