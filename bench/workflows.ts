/**
 * A workflow Map over many trivial items (read from a JSON Lines asset, results written to one)
 * at MaxConcurrency 200, against the same tasks submitted in batches of 1,000 to the same no-op
 * server-mode function (one instance, concurrency 200). It samples the function's running tasks
 * (never above the Map's MaxConcurrency) and the server's resident memory. Prints a markdown table
 * and writes it to bench/results/workflows-<date>.md; it never passes or fails on a time.
 *
 *   node --import tsx bench/workflows.ts [--quick]     (10,000 items; 100,000 without --quick)
 */
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchEnv, type BenchFunction } from './lib/bench-env.js';
import type { FerryServer } from './lib/ferry-server.js';
import { publish } from './lib/report.js';
import { RssSampler } from './lib/rss.js';
import { perSecond } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_CONCURRENCY = 200;
const BATCH = 1_000;
const QUICK = { items: 10_000, budgetMs: 120_000 };
const FULL = { items: 100_000, budgetMs: 1_200_000 };

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const MiB = 1024 * 1024;

interface Row {
  name: string;
  seconds: number;
  mostRunning: number;
  rssPeak: number;
}

/** The function's running tasks, sampled every 50 ms while `run` runs; the most seen. */
async function sampled<T>(ferry: FerryServer, fn: BenchFunction, run: () => Promise<T>): Promise<{ result: T; mostRunning: number; rssPeak: number; seconds: number }> {
  const rss = new RssSampler(ferry.child.pid!);
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, (await ferry.json<{ running: number }>('GET', `/v1/functions/${fn.id}/queue`, 200)).running);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  rss.start();
  const t0 = performance.now();
  try {
    const result = await run();
    return { result, mostRunning: most, rssPeak: rss.peak, seconds: (performance.now() - t0) / 1000 };
  } finally {
    sampling = false;
    rss.stop();
    await sampler;
  }
}

async function until(check: () => Promise<boolean>, deadline: number, what: string): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done within the time limit`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const sizes = argv.includes('--quick') ? QUICK : FULL;
  const startedAt = new Date();
  const rows: Row[] = [];
  const notes: string[] = [];
  let env: BenchEnv | null = null;
  try {
    env = await BenchEnv.create(REPO_ROOT, log, Date.now() + 60_000);
    const ferry = env.ferry!;
    const fn = await env.deploy(env.serverFunction('bench-map', MAX_CONCURRENCY));
    await env.waitReady(fn, 30_000);

    const lines = Array.from({ length: sizes.items }, (_, i) => `{"i":${i}}`).join('\n');
    const asset = await ferry.json<{ id: string; uploadUrl: string }>('POST', '/v1/assets', 201, { contentType: 'application/x-ndjson' });
    const put = await fetch(asset.uploadUrl, { method: 'PUT', body: `${lines}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    if (!put.ok) throw new Error(`uploading the items answered ${put.status}`);
    await ferry.json('POST', '/v1/workflows', 201, {
      name: 'bench-map',
      definition: {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemReader: { AssetPath: '$.items' },
            ResultWriter: {},
            MaxConcurrency: MAX_CONCURRENCY,
            ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: fn.id, End: true } } },
            End: true,
          },
        },
      },
    });

    log(`a Map of ${sizes.items} items at MaxConcurrency ${MAX_CONCURRENCY}`);
    const deadline = Date.now() + sizes.budgetMs;
    const map = await sampled(ferry, fn, async () => {
      const e = await ferry.json<{ id: string }>('POST', '/v1/workflows/bench-map/executions', 202, { input: { items: asset.id } });
      let last: { status: string; output: { count?: number } | null } = { status: 'RUNNING', output: null };
      await until(async () => {
        last = await ferry.json('GET', `/v1/executions/${e.id}`, 200);
        return last.status !== 'RUNNING';
      }, deadline, 'the Map');
      return last;
    });
    if (map.result.status !== 'SUCCEEDED' || map.result.output?.count !== sizes.items) throw new Error(`the Map ended ${map.result.status}: ${JSON.stringify(map.result.output)}`);
    rows.push({ name: `workflow Map (ItemReader asset → ${sizes.items.toLocaleString('en-US')} tasks → ResultWriter asset), MaxConcurrency ${MAX_CONCURRENCY}`, ...map });

    log(`the same ${sizes.items} tasks in batches of ${BATCH}`);
    const before = (await ferry.json<{ byStatus: Record<string, number> }>('GET', `/v1/functions/${fn.id}/queue`, 200)).byStatus.SUCCEEDED ?? 0;
    const batch = await sampled(ferry, fn, async () => {
      for (let sent = 0; sent < sizes.items; sent += BATCH) {
        const tasks = Array.from({ length: Math.min(BATCH, sizes.items - sent) }, (_, i) => ({ functionId: fn.id, input: { i: sent + i } }));
        await ferry.json('POST', '/v1/tasks/batch', 202, { tasks });
      }
      await until(async () => ((await ferry.json<{ byStatus: Record<string, number> }>('GET', `/v1/functions/${fn.id}/queue`, 200)).byStatus.SUCCEEDED ?? 0) - before >= sizes.items, deadline, 'the batch');
    });
    rows.push({ name: `the same tasks, POST /v1/tasks/batch (${BATCH} a request), all to their end`, ...batch });
  } finally {
    if (env) for (const n of await env.teardown()) notes.push(n);
  }
  const [map, batch] = rows;
  await publish({
    name: 'workflows',
    title: 'Ferry workflow Map benchmark',
    startedAt,
    quick: sizes === QUICK,
    body: [
      `A Map of ${sizes.items.toLocaleString('en-US')} trivial items against the same tasks submitted in batches, one no-op server-mode instance (concurrency ${MAX_CONCURRENCY}).`,
      'Running tasks sampled every 50 ms; the server\'s resident memory every 100 ms.',
      '',
      '| case | time | tasks/s | most running at once | server RSS, peak | ÷ batch time |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.name} | ${r.seconds.toFixed(1)} s | ${perSecond(sizes.items / r.seconds)} | ${r.mostRunning} | ${(r.rssPeak / MiB).toFixed(0)} MiB | ${map && batch ? `${(r.seconds / batch.seconds).toFixed(2)}×` : 'n/a'} |`),
    ],
    notes,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
