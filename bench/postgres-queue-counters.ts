/**
 * How much the queue counters (migration 2) cost concurrent enqueues. Every enqueue updates the
 * counter row of its version, priority, block and stripe and holds that row's lock until it
 * commits, so enqueues of one version may line up behind each other. This runs 50 enqueues at a
 * time over one store with the counters as shipped (8 stripes), with 16 stripes, with one counter
 * row per block (no striping), and with the counter triggers dropped, and prints a table. No pass
 * or fail.
 *
 *   node --import tsx bench/postgres-queue-counters.ts [tasks per run] [rounds]
 *
 * Uses FERRY_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); each run gets a
 * schema of its own, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { systemClock } from '../src/core/clock.js';
import { newId } from '../src/core/ids.js';
import { newTask } from '../src/core/new-task.js';
import type { VersionSpec } from '../src/core/types.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';

const url = process.env.FERRY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = Number(process.argv[2] ?? 5_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 50;

/** What each variant does to a freshly migrated schema before the run. */
const VARIANTS: { name: string; sql: string }[] = [
  { name: 'counters striped by seq % 8 (as shipped)', sql: '' },
  { name: 'counters striped by seq % 16', sql: "CREATE OR REPLACE FUNCTION queue_stripe(seq BIGINT) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS 'SELECT (seq % 16)::integer'" },
  { name: 'one counter row per block', sql: "CREATE OR REPLACE FUNCTION queue_stripe(seq BIGINT) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS 'SELECT 0'" },
  { name: 'no counter triggers', sql: 'DROP TRIGGER queue_blocks_insert ON tasks; DROP TRIGGER queue_blocks_update ON tasks' },
];

const spec: VersionSpec = {
  mode: 'job',
  runtime: { type: 'process' },
  job: { command: ['true'], output: 'file' },
  resources: { gpus: 0 },
  concurrency: 1,
  timeoutSeconds: 60,
  maxQueuedSeconds: 3600,
  retries: 0,
  stopGraceSeconds: 5,
};

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function runOnce(variant: { sql: string }): Promise<Run> {
  const schema = `ferry_bench_${randomBytes(6).toString('hex')}`;
  const store = await PostgresStore.open({ url, schema, poolSize: CONCURRENCY, clock: systemClock });
  try {
    if (variant.sql) await admin(`SET search_path = ${schema}; ${variant.sql}`);
    const now = await store.now();
    await store.tenants.createTenant({ id: 'ten_b', name: 'b', system: true, quotas: {}, createdAt: now }, { id: newId('key'), tenantId: 'ten_b', name: 'k', scope: 'admin', hash: 'h', createdAt: now, prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null });
    const fnId = newId('fn');
    const version = await store.catalog.createFunction({ id: fnId, tenantId: 'ten_b', name: 'f', description: '', tags: [], createdAt: now }, { id: newId('ver'), tenantId: 'ten_b', functionId: fnId, spec, createdAt: now });
    const enqueue = async (): Promise<number> => {
      const at = store.clock.now();
      const task = newTask({ tenantId: 'ten_b', functionId: fnId, versionId: version.id, taskType: 'command', input: { n: 1 }, priority: 0, maxAttempts: 1, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 3_600_000 }, at);
      const started = performance.now();
      await store.tasks.enqueueTask({ task, requestHash: null });
      return performance.now() - started;
    };
    const drive = async (count: number): Promise<number[]> => {
      const latencies: number[] = [];
      let left = count;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) latencies.push(await enqueue());
        }),
      );
      return latencies;
    };
    // Warm up: open every pooled connection and let PL/pgSQL cache its plans.
    await drive(CONCURRENCY * 4);
    const started = performance.now();
    const latencies = (await drive(TASKS)).sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: TASKS / seconds, p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
  } finally {
    await store.close();
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results = new Map<string, Run[]>(VARIANTS.map((v) => [v.name, []]));
// Rounds interleave the variants, so a slow spell of the machine does not land on one of them.
for (let round = 0; round < ROUNDS; round++) for (const v of VARIANTS) results.get(v.name)!.push(await runOnce(v));

const baseline = median(results.get('no counter triggers')!.map((r) => r.perSecond));
console.log(`enqueue throughput, ${CONCURRENCY} concurrent enqueues over one store (pool of ${CONCURRENCY}), ${TASKS} tasks per run, median of ${ROUNDS} runs`);
console.log('| variant | enqueues/s | vs no triggers | p50 ms | p99 ms | runs (enqueues/s) |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const [name, runs] of results) {
  const perSecond = median(runs.map((r) => r.perSecond));
  const cost = ((1 - perSecond / baseline) * 100).toFixed(0);
  console.log(
    `| ${name} | ${perSecond.toFixed(0)} | ${cost}% slower | ${median(runs.map((r) => r.p50)).toFixed(2)} | ${median(runs.map((r) => r.p99)).toFixed(2)} | ${runs.map((r) => r.perSecond.toFixed(0)).join(', ')} |`,
  );
}
