/**
 * What each of Ferry's own additions to a task's path costs, each against the same run without it:
 *
 * - the outcome feed's write (one row per ended attempt, in the transaction that ends it): the
 *   store alone, in this process, 50 tasks at a time through enqueue → claim → complete, on a
 *   store as shipped and on one whose feed insert is made a no-op (SQLite: the table behind a view
 *   whose INSTEAD OF trigger does nothing; PostgreSQL: a DO INSTEAD NOTHING rule);
 * - the metrics (store-call timings, HTTP and task histograms, counters): two real servers, one
 *   with FERRY_METRICS=off, taking async submits streamed at c=50 through the no-op function.
 *
 * Rounds alternate the two sides so drift on the machine lands on both. Prints a table and writes
 * it to bench/results/costs-<date>.md; it never passes or fails on a time.
 *
 *   node --import tsx bench/costs.ts [--quick]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { systemClock } from '../src/core/clock.js';
import { newId } from '../src/core/ids.js';
import { newTask } from '../src/core/new-task.js';
import type { VersionSpec } from '../src/core/types.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { BenchEnv } from './lib/bench-env.js';
import { BENCH_STORE_URL } from './lib/bench-store.js';
import { Failures, closedLoop } from './lib/loops.js';
import { publish } from './lib/report.js';
import { perSecond } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = 50;
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

interface Sizes {
  storeTasks: number;
  serverTasks: number;
  rounds: number;
}
const QUICK: Sizes = { storeTasks: 3_000, serverTasks: 600, rounds: 3 };
const FULL: Sizes = { storeTasks: 20_000, serverTasks: 3_000, rounds: 5 };

const SPEC: VersionSpec = {
  mode: 'server',
  runtime: { type: 'process' },
  server: { inferencePath: '/', healthPath: '/health', startupTimeoutSeconds: 60 },
  resources: { gpus: 0 },
  concurrency: CONCURRENCY,
  timeoutSeconds: 60,
  maxQueuedSeconds: 3600,
  retries: 0,
  stopGraceSeconds: 5,
};

/** One side of a comparison: its rounds' rates, and CPU µs per task where measured in this process. */
interface Side {
  rates: number[];
  cpuPerTask: number[];
}

export async function main(argv: readonly string[]): Promise<void> {
  const sizes = argv.includes('--quick') ? QUICK : FULL;
  const startedAt = new Date();
  const notes: string[] = [];
  const feed = await feedWriteCost(sizes);
  const metrics = await metricsCost(sizes, notes);
  const row = (name: string, what: string, shipped: Side, without: Side): string => {
    const cpu = shipped.cpuPerTask.length > 0 ? `${median(shipped.cpuPerTask).toFixed(0)} µs → ${median(without.cpuPerTask).toFixed(0)} µs (${percent(median(shipped.cpuPerTask) / median(without.cpuPerTask) - 1)})` : '—';
    return `| ${name} | ${what} | ${perSecond(median(shipped.rates))} | ${perSecond(median(without.rates))} | ${percent(median(without.rates) / median(shipped.rates) - 1)} | ${cpu} |`;
  };
  await publish({
    name: 'costs',
    title: 'What Ferry’s own additions cost a task',
    startedAt,
    quick: sizes === QUICK,
    body: [
      `Medians of ${sizes.rounds} rounds a side, the sides alternating. The feed row drives the store alone in this process (${sizes.storeTasks} tasks a round,`,
      `${CONCURRENCY} at a time, each enqueued, claimed and completed); CPU is this process's user + system time per task (on PostgreSQL the`,
      `server's backends are not in it). The metrics row runs two servers side by side, ${sizes.serverTasks} async submits a round, streamed at c=${CONCURRENCY}.`,
      '',
      '| cost | measured on | as shipped | without it | faster without | CPU per task, with → without |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      row('the outcome feed’s write', 'store: enqueue → claim → complete', feed.shipped, feed.without),
      row('metrics (FERRY_METRICS=off)', 'server: async submits, streamed, c=50', metrics.shipped, metrics.without),
    ],
    notes,
  });
}

/** The store as shipped against one whose outcome insert does nothing, rounds alternating. */
async function feedWriteCost(sizes: Sizes): Promise<{ shipped: Side; without: Side }> {
  const shipped = await openBenchStore(false);
  const without = await openBenchStore(true);
  const sides = { shipped: { rates: [], cpuPerTask: [] } as Side, without: { rates: [], cpuPerTask: [] } as Side };
  try {
    await Promise.all([drive(shipped, CONCURRENCY * 4), drive(without, CONCURRENCY * 4)]);
    for (let round = 0; round < sizes.rounds; round++) {
      for (const [side, opened] of [[sides.shipped, shipped], [sides.without, without]] as const) {
        log(`outcome feed's write: ${side === sides.shipped ? 'as shipped' : 'without it'}, round ${round + 1}`);
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        await drive(opened, sizes.storeTasks);
        const seconds = (performance.now() - t0) / 1000;
        const used = process.cpuUsage(cpu);
        side.rates.push(sizes.storeTasks / seconds);
        side.cpuPerTask.push((used.user + used.system) / sizes.storeTasks);
      }
    }
    return sides;
  } finally {
    await shipped.close();
    await without.close();
  }
}

/** Runs `count` tasks through enqueue → claim → complete, CONCURRENCY at a time, on one IDLE instance. */
async function drive({ store, instanceId, versionId }: BenchStore, count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const fields = { tenantId: 'ten_bench', functionId: 'fn_bench', versionId, taskType: 'query' as const, input: {}, priority: 0, maxAttempts: 1, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 3_600_000 };
        await store.tasks.enqueueTask({ task: newTask(fields, systemClock.now()), requestHash: null });
        const [task] = await store.tasks.claimTasks({ instanceId, limit: 1, leaseMs: 60_000 });
        if (task) await store.tasks.completeTask({ id: task.id, attempt: task.attempt }, { status: 'SUCCEEDED', output: {} }, 1_000);
      }
    }),
  );
}

interface BenchStore {
  store: Store;
  instanceId: string;
  versionId: string;
  close: () => Promise<void>;
}

/** A fresh store of the run's kind with a tenant, a function and an IDLE instance; `noFeed`: its outcome insert does nothing. */
async function openBenchStore(noFeed: boolean): Promise<BenchStore> {
  let store: Store;
  let close: () => Promise<void>;
  if (BENCH_STORE_URL === '') {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-costs-'));
    const path = join(dir, 'ferry.db');
    if (noFeed) {
      await new SqliteStore({ path, clock: systemClock }).close();
      const db = new Database(path);
      db.exec(`ALTER TABLE task_outcomes RENAME TO task_outcomes_kept;
        CREATE VIEW task_outcomes AS SELECT * FROM task_outcomes_kept;
        CREATE TRIGGER task_outcomes_off INSTEAD OF INSERT ON task_outcomes BEGIN SELECT 1; END;`);
      db.close();
    }
    const sqlite = new SqliteStore({ path, clock: systemClock });
    store = sqlite;
    close = async () => {
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    };
  } else {
    const schema = `ferry_costs_${randomBytes(5).toString('hex')}`;
    const postgres = await PostgresStore.open({ url: BENCH_STORE_URL, schema, poolSize: CONCURRENCY, clock: systemClock });
    if (noFeed) await admin(`CREATE RULE task_outcomes_off AS ON INSERT TO ${schema}.task_outcomes DO INSTEAD NOTHING`);
    store = postgres;
    close = async () => {
      await postgres.close();
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    };
  }
  const now = systemClock.now();
  await store.tenants.createTenant({ id: 'ten_bench', name: 'bench', system: true, quotas: {}, createdAt: now }, { id: newId('key'), tenantId: 'ten_bench', name: 'k', scope: 'admin', hash: 'h', createdAt: now, prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null });
  const version = await store.catalog.createFunction({ id: 'fn_bench', tenantId: 'ten_bench', name: 'bench', description: '', tags: [], createdAt: now }, { id: newId('ver'), tenantId: 'ten_bench', functionId: 'fn_bench', spec: SPEC, createdAt: now });
  await store.fleet.upsertNode({ id: 'node_bench', name: 'bench', gpus: [], state: 'READY', lastSeenAt: now, createdAt: now });
  const instance = { id: newId('ins'), tenantId: 'ten_bench', functionId: 'fn_bench', versionId: version.id, nodeId: 'node_bench', state: 'STARTING' as const, gpus: [], reason: null, createdAt: now, readyAt: null, endedAt: null };
  await store.fleet.createInstance(instance);
  await store.fleet.moveInstance(instance.id, ['STARTING'], 'IDLE', null);
  return { store, instanceId: instance.id, versionId: version.id, close };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_STORE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Two servers, one with FERRY_METRICS=off, taking the same streamed submits in alternating rounds. */
async function metricsCost(sizes: Sizes, notes: string[]): Promise<{ shipped: Side; without: Side }> {
  const failures = new Failures();
  const sides = { shipped: { rates: [], cpuPerTask: [] } as Side, without: { rates: [], cpuPerTask: [] } as Side };
  const envs: BenchEnv[] = [];
  try {
    envs.push(await BenchEnv.create(REPO_ROOT, log, Date.now() + 60_000));
    envs.push(await BenchEnv.create(REPO_ROOT, log, Date.now() + 60_000, { FERRY_METRICS: 'off' }));
    for (let round = 0; round < sizes.rounds; round++) {
      for (const [side, env] of [[sides.shipped, envs[0]!], [sides.without, envs[1]!]] as const) {
        log(`metrics: ${side === sides.shipped ? 'as shipped' : 'off'}, round ${round + 1}`);
        const fn = env.functions.c50!;
        const t0 = performance.now();
        const deadline = Date.now() + 60_000;
        const sent = await closedLoop(sizes.serverTasks, CONCURRENCY, async () => {
          const res = await env.ferry!.request('POST', '/v1/tasks', { body: { functionId: fn.id, input: {} } });
          if (res.status !== 202) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.body.slice(0, 200)}`);
        }, deadline, 'submit', failures);
        for (;;) {
          const q = await env.ferry!.json<{ queued: number; running: number }>('GET', `/v1/functions/${fn.id}/queue`, 200);
          if ((q.queued === 0 && q.running === 0) || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        side.rates.push(sent.done / ((performance.now() - t0) / 1000));
      }
    }
  } finally {
    for (const env of envs) for (const n of await env.teardown()) log(n);
  }
  notes.push(...failures.notes());
  return sides;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
