/**
 * Enqueue rate of batch submits (`POST /v1/tasks/batch`, 1,000 tasks a request, each batch one
 * transaction) at concurrency 1 and 4, against single submits (`POST /v1/tasks`) at concurrency 50
 * into the same kind of queue. The tasks go to a function whose instance never becomes ready, so
 * the rate is the store's and the API's alone, with the queue growing as it would under a large
 * offline fan-out. Prints a markdown table and writes it to bench/results/batch-<date>.md; it never
 * passes or fails on a time.
 *
 *   node --import tsx bench/batch.ts [--quick]
 */
import { join, dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchEnv, type BenchFunction } from './lib/bench-env.js';
import { Failures, closedLoop } from './lib/loops.js';
import { publish } from './lib/report.js';
import { perSecond } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 1_000;
const QUICK = { tasks: 20_000, budgetMs: 60_000 };
const FULL = { tasks: 200_000, budgetMs: 300_000 };

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

interface Row {
  name: string;
  tasks: number;
  seconds: number;
  cut: boolean;
}

export async function main(argv: readonly string[]): Promise<void> {
  const sizes = argv.includes('--quick') ? QUICK : FULL;
  const startedAt = new Date();
  const failures = new Failures();
  const rows: Row[] = [];
  let env: BenchEnv | null = null;
  try {
    env = await BenchEnv.create(REPO_ROOT, log, Date.now() + 60_000);
    const e = env;
    // An instance that waits for a file nobody writes: every task stays queued.
    const held = async (name: string): Promise<BenchFunction> => e.deploy(e.serverFunction(name, 1, { BENCH_GO_FILE: join(e.tmp, `never-${name}`) }));
    const body = (fn: BenchFunction): unknown => ({ tasks: Array.from({ length: BATCH }, (_, i) => ({ functionId: fn.id, input: { i } })) });
    for (const concurrency of [1, 4]) {
      const fn = await held(`bench-batch-c${concurrency}`);
      log(`batch submits of ${BATCH}, concurrency ${concurrency}`);
      const run = await closedLoop(sizes.tasks / BATCH, concurrency, async () => {
        const res = await e.ferry!.request('POST', '/v1/tasks/batch', { body: body(fn), timeoutMs: 60_000 });
        if (res.status !== 202) throw new Error(`POST /v1/tasks/batch answered ${res.status}: ${res.body.slice(0, 200)}`);
        const items = (JSON.parse(res.body) as { items: { id?: string }[] }).items;
        if (items.some((item) => item.id === undefined)) throw new Error('a task of the batch was refused');
      }, Date.now() + sizes.budgetMs, `batch c${concurrency}`, failures);
      rows.push({ name: `POST /v1/tasks/batch (${BATCH} a request), concurrency ${concurrency}`, tasks: run.done * BATCH, seconds: run.seconds, cut: run.cut });
    }
    const single = await held('bench-batch-single');
    log('single submits, concurrency 50');
    const t0 = performance.now();
    const run = await closedLoop(sizes.tasks / 4, 50, async () => {
      const res = await e.ferry!.request('POST', '/v1/tasks', { body: { functionId: single.id, input: {} } });
      if (res.status !== 202) throw new Error(`POST /v1/tasks answered ${res.status}`);
    }, Date.now() + sizes.budgetMs, 'single c50', failures);
    rows.push({ name: 'POST /v1/tasks (one task a request), concurrency 50', tasks: run.done, seconds: (performance.now() - t0) / 1000, cut: run.cut });
  } finally {
    if (env) for (const n of await env.teardown()) log(n);
  }
  const single = rows.find((r) => r.name.startsWith('POST /v1/tasks (one'));
  const rate = (r: Row): number => r.tasks / r.seconds;
  await publish({
    name: 'batch',
    title: 'Ferry batch submit benchmark',
    startedAt,
    quick: sizes === QUICK,
    body: [
      `Tasks enqueued per second into one function's queue, which grows to ${sizes.tasks.toLocaleString('en-US')} (no instance takes them). Target (PRODUCT.md):`,
      'batch submit ≥ 10,000 tasks/s into SQLite.',
      '',
      '| case | tasks | enqueued | ÷ single submits |',
      '| --- | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.name} | ${r.tasks.toLocaleString('en-US')} | ${perSecond(rate(r))} | ${single ? `${(rate(r) / rate(single)).toFixed(1)}×` : 'n/a'} |`),
    ],
    notes: [...rows.filter((r) => r.cut).map((r) => `${r.name} was cut short by its time limit`), ...failures.notes()],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
