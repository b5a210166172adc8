/**
 * The job queues Ferry is measured against, behind one small interface, so the benchmark drives
 * BullMQ, graphile-worker and pg-boss the same way: enqueue a tiny `{i}` payload, and a worker in
 * this process runs a handler for it. Each adapter keeps to storage of its own (Redis keys under
 * its own prefix, a PostgreSQL schema of its own) and removes it when closed.
 */

/** The job payload: a number that tells the measurement which job ran. */
export interface Payload {
  i: number;
}

export type Handler = (payload: Payload) => Promise<void>;

export interface PeerQueue {
  /** e.g. 'BullMQ 6 (Redis)', 'graphile-worker 0.17 (PostgreSQL)', 'pg-boss 10 (PostgreSQL)' */
  readonly name: string;
  /**
   * Only for a peer whose worker polls (pg-boss): the most an idle worker waits before it looks for
   * jobs again, in ms. Undefined for peers whose worker the store wakes (BullMQ, graphile-worker).
   */
  readonly pollIntervalMs?: number;
  /** Connects and makes a clean, empty queue of its own (removes leftovers of earlier runs: its own Redis keys / its own PostgreSQL schema, never anything else). */
  open(): Promise<void>;
  /** Starts consuming with `concurrency` jobs at a time; each job calls `handler(payload)` and completes when it resolves. Resolves once the worker is ready to take jobs. */
  startWorker(concurrency: number, handler: Handler): Promise<void>;
  /** Stops the worker (waits for running jobs). */
  stopWorker(): Promise<void>;
  /** Enqueues one job; resolves when the library acknowledged it (stored). */
  enqueue(payload: Payload): Promise<void>;
  /** Enqueues many jobs with the library's bulk API where it has one. */
  enqueueMany(payloads: Payload[]): Promise<void>;
  /**
   * Removes every job still waiting to run, so a measurement that was cut short leaves nothing
   * for the next one to work through. Call it with no worker running.
   */
  purge(): Promise<void>;
  /** Stops everything and removes what open() made. Safe to call twice and after a failed open. */
  close(): Promise<void>;
}

/** Runs every step of a teardown even when one fails, then throws the first failure. */
export async function allSteps(steps: (() => Promise<unknown>)[]): Promise<void> {
  let first: unknown = null;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== null) throw first;
}

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
