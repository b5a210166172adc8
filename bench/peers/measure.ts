/**
 * Latency and throughput of a peer queue, measured the way Ferry's own cases are: enqueue →
 * handler start for latency, tasks/s for throughput. Every wait is bounded by a deadline; a slow
 * peer makes a measurement come back early with `cut: true`, never throw. A broken one (its worker
 * does not start, its storage is gone) still throws.
 */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { httpRequest, keepAliveAgent } from '../lib/http-client.js';
import { within, type Handler, type PeerQueue } from './peer.js';

const now = (): number => performance.timeOrigin + performance.now();
/** The longest one latency sample waits for its job to run. */
const SAMPLE_TIMEOUT_MS = 10_000;
/** The longest one enqueue and one stopWorker may take. */
const ENQUEUE_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 30_000;
/** Pre-enqueued jobs go in with the bulk API this many at a time. */
const BULK_CHUNK = 1000;

/**
 * Payload numbers are never reused in this process, so a job an earlier measurement left behind is
 * never taken for one of the current one.
 */
let nextI = 1;
function takeIds(count: number): number {
  const first = nextI;
  nextI += count;
  return first;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A timer that can be awaited and cancelled, so a finished wait does not hold the process open. */
function timerUntil(deadline: number): { done: Promise<void>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  return { done, cancel: () => clearTimeout(timer) };
}

// ---------------------------------------------------------------------------------------------
// Latency: enqueue → handler start, one job at a time.

/** The running latency worker of each peer: who waits for which job. */
const latencyWorkers = new WeakMap<PeerQueue, Map<number, (handlerStart: number) => void>>();

/**
 * Empties the peer's queue and starts its worker at concurrency 1 with a handler that records
 * when it started (`performance.timeOrigin + performance.now()`) for `latencySample`.
 */
export async function startLatencyWorker(peer: PeerQueue): Promise<void> {
  if (latencyWorkers.has(peer)) throw new Error(`${peer.name}: the latency worker is already running`);
  const waiters = new Map<number, (handlerStart: number) => void>();
  await peer.purge();
  await peer.startWorker(1, async ({ i }) => {
    const handlerStart = now();
    const waiter = waiters.get(i);
    if (waiter) {
      waiters.delete(i);
      waiter(handlerStart);
    }
  });
  latencyWorkers.set(peer, waiters);
}

export async function stopLatencyWorker(peer: PeerQueue): Promise<void> {
  if (!latencyWorkers.delete(peer)) return;
  await within(peer.stopWorker(), STOP_TIMEOUT_MS, `${peer.name}: stopping the latency worker`);
}

/**
 * One sample, in ms: t0 just before `enqueue`, until the handler for that job started (and, a
 * no-op, finished). Needs `startLatencyWorker(peer)`. Rejects when the job has not run within
 * `timeoutMs` or the enqueue failed.
 *
 * For a polling peer it first waits a random time in [0, pollIntervalMs). Without that, every
 * sample would be enqueued just after the worker's last fetch (the one that ran the previous
 * sample) and wait a whole interval: the worst case every time. A job from a real client lands at
 * a random point of the polling cycle, and so does this one.
 */
export async function latencySample(peer: PeerQueue, timeoutMs = SAMPLE_TIMEOUT_MS): Promise<number> {
  const waiters = latencyWorkers.get(peer);
  if (!waiters) throw new Error(`${peer.name}: startLatencyWorker first`);
  if (peer.pollIntervalMs) await new Promise((r) => setTimeout(r, Math.random() * peer.pollIntervalMs!));
  const i = takeIds(1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ran = new Promise<number>((resolve, reject) => {
    waiters.set(i, resolve);
    timer = setTimeout(() => reject(new Error(`${peer.name}: job ${i} did not run within ${timeoutMs} ms`)), timeoutMs);
  });
  ran.catch(() => {}); // settled below; this only keeps a rejection during enqueue from going unhandled
  try {
    const t0 = now();
    await peer.enqueue({ i });
    return (await ran) - t0;
  } finally {
    clearTimeout(timer);
    waiters.delete(i);
  }
}

export interface LatencyResult {
  samples: number[];
  /** True when the deadline or a failed sample ended the run before `n` samples. */
  cut: boolean;
  /** Why a sample failed, when one did. */
  error?: string;
}

/** `warmup` unrecorded samples, then up to `n` recorded ones, sequential, until `deadline` (epoch ms). */
export async function latencySamples(peer: PeerQueue, options: { warmup: number; n: number; deadline: number }): Promise<LatencyResult> {
  const { warmup, n, deadline } = options;
  const out: LatencyResult = { samples: [], cut: false };
  await startLatencyWorker(peer);
  try {
    for (let k = 0; k < warmup + n; k++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        out.cut = true;
        break;
      }
      try {
        const sample = await latencySample(peer, Math.min(SAMPLE_TIMEOUT_MS, left));
        if (k >= warmup) out.samples.push(sample);
      } catch (err) {
        out.cut = true;
        out.error = message(err);
        break;
      }
    }
  } finally {
    await stopLatencyWorker(peer).catch((err: unknown) => {
      out.error ??= message(err);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Throughput: n jobs through the worker at a given concurrency.

export interface ThroughputOptions {
  n: number;
  /** The worker's concurrency; in streamed mode also the number of producers. */
  concurrency: number;
  /**
   * preenqueued: all n jobs are stored first (bulk, not timed), then the worker starts; timed
   * from just before startWorker (so the worker's own start-up, a few ms to tens of ms, counts)
   * to the n-th completion. streamed: the worker runs first, then
   * `concurrency` producers enqueue the n jobs, each awaiting its enqueue before the next; timed
   * from the first enqueue to the n-th completion.
   */
  mode: 'preenqueued' | 'streamed';
  /** When set, each job is a `POST /` with `{}` to 127.0.0.1:port that must answer 200. */
  forwardToPort?: number;
  /** Epoch ms; the run ends here whether or not all jobs are done. */
  deadline: number;
}

export interface ThroughputResult {
  /** done / seconds. */
  perSecond: number;
  /** Jobs whose handler succeeded. */
  done: number;
  seconds: number;
  /** True when not all n jobs were done by the deadline. */
  cut: boolean;
  /** Failed handlers and enqueues, with the first message. */
  failed: number;
  firstError?: string;
}

/**
 * Throughput of the peer's worker at `concurrency`, with a no-op handler or one forwarding each
 * job to an HTTP server (what a user would build instead of Ferry: a worker calling the model's
 * server). Empties the queue first; stops the worker afterwards, and empties the queue again when
 * the run was cut, so what it left does not slow the next measurement.
 */
export async function throughput(peer: PeerQueue, options: ThroughputOptions): Promise<ThroughputResult> {
  const { n, concurrency, mode, forwardToPort, deadline } = options;
  const first = takeIds(n);
  const agent = forwardToPort === undefined ? null : keepAliveAgent(concurrency);
  const completed = new Set<number>();
  let failed = 0;
  let firstError: string | undefined;
  const fail = (err: unknown): void => {
    failed++;
    firstError ??= message(err);
  };
  let lastDoneAt = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const work = agent ? () => forward(agent, forwardToPort!) : async () => {};
  const handler: Handler = async ({ i }) => {
    if (i < first || i >= first + n) return; // left over from an earlier measurement
    try {
      await work();
    } catch (err) {
      fail(err);
      throw err; // the job fails, as a user's would
    }
    if (completed.has(i)) return;
    completed.add(i);
    if (completed.size === n) {
      lastDoneAt = performance.now();
      allDone();
    }
  };

  await peer.purge();
  let t0: number;
  let producing: Promise<unknown> = Promise.resolve();
  if (mode === 'preenqueued') {
    for (let k = 0; k < n; k += BULK_CHUNK) {
      if (Date.now() > deadline) {
        agent?.destroy();
        await peer.purge();
        return { perSecond: Number.NaN, done: 0, seconds: 0, cut: true, failed, firstError: firstError ?? 'the deadline passed while enqueueing' };
      }
      const chunk = Array.from({ length: Math.min(BULK_CHUNK, n - k) }, (_, j) => ({ i: first + k + j }));
      await peer.enqueueMany(chunk);
    }
    t0 = performance.now();
    await peer.startWorker(concurrency, handler);
  } else {
    await peer.startWorker(concurrency, handler);
    t0 = performance.now();
    let next = 0;
    const producer = async (): Promise<void> => {
      while (next < n && Date.now() <= deadline) {
        const i = first + next++;
        await within(peer.enqueue({ i }), ENQUEUE_TIMEOUT_MS, `${peer.name}: enqueue`).catch(fail);
      }
    };
    producing = Promise.all(Array.from({ length: concurrency }, producer));
  }

  const timer = timerUntil(deadline);
  await Promise.race([finished, timer.done]);
  timer.cancel();
  const cut = completed.size < n;
  const seconds = ((cut ? performance.now() : lastDoneAt) - t0) / 1000;
  const done = completed.size;
  await producing;
  await within(peer.stopWorker(), STOP_TIMEOUT_MS, `${peer.name}: stopping the worker`).catch(fail);
  agent?.destroy();
  if (cut) await peer.purge().catch(fail);
  return { perSecond: seconds > 0 ? done / seconds : Number.NaN, done, seconds, cut, failed, firstError };
}

async function forward(agent: http.Agent, port: number): Promise<void> {
  const res = await httpRequest(agent, port, 'POST', '/', { body: '{}' });
  if (res.status !== 200) throw new Error(`POST / answered ${res.status}`);
}
