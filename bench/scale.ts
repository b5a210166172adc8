/**
 * How Ferry's costs grow with the queue: tasks are enqueued (HTTP, 50 concurrent clients) to a
 * version whose instance can never be placed, so every one stays queued; at each depth the
 * benchmark measures the enqueue rate over the last stretch, a single submit's latency, `GET
 * /v1/tasks/{id}` and `GET .../position` on random queued tasks, the store's size on disk and
 * the server's RSS. Prints a markdown table and writes it to bench/results/scale-<date>.md; it
 * never passes or fails on a time.
 *
 *   node --import tsx bench/scale.ts [--quick] [--depth 1000000]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FerryServer } from './lib/ferry-server.js';
import { Failures, closedLoop } from './lib/loops.js';
import { publish } from './lib/report.js';
import { ms, perSecond, summarize, type Summary } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK_DEPTHS = [1_000, 10_000, 30_000];
const FULL_DEPTHS = [1_000, 10_000, 100_000, 1_000_000];
/** Sequential reads and submits measured at each depth. */
const PROBES = 200;
const CLIENTS = 50;

interface Checkpoint {
  depth: number;
  /** Enqueue rate over the stretch that led to this depth (the last 10% of it, at least 500 tasks). */
  enqueueRate: number;
  submit: Summary;
  getTask: Summary;
  position: Summary;
  storeBytes: number;
  rssBytes: number;
}

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--depth');
  const maxDepth = at >= 0 ? Number(argv[at + 1]) : undefined;
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 1_000)) throw new Error('--depth: a whole number of at least 1000');
  const depths = maxDepth ? [...FULL_DEPTHS.filter((d) => d < maxDepth), maxDepth] : quick ? QUICK_DEPTHS : FULL_DEPTHS;
  const startedAt = new Date();
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-scale-'));
  const dataDir = join(tmp, 'data');
  const failures = new Failures();
  let ferry: FerryServer | null = null;
  try {
    ferry = await FerryServer.start(REPO_ROOT, dataDir, 60_000);
    // A GPU type no node has: the instance stays pending and every task stays queued.
    const fn = await ferry.json<{ id: string; version: { id: string } }>('POST', '/v1/functions', 201, {
      name: 'bench-scale',
      version: { mode: 'job', runtime: { type: 'process' }, job: { command: ['true'] }, resources: { gpus: 1, gpuType: 'BENCH-NONE' } },
    });
    await ferry.json('PUT', `/v1/functions/${fn.id}/versions/${fn.version.id}/deployment`, 202, { minInstances: 0, maxInstances: 1 });
    const ids: string[] = [];
    const submit = async (): Promise<void> => {
      const res = await ferry!.request('POST', '/v1/tasks', { body: { functionId: fn.id, input: { n: ids.length } } });
      if (res.status !== 202) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.body.slice(0, 200)}`);
      ids.push((JSON.parse(res.body) as { id: string }).id);
    };
    const checkpoints: Checkpoint[] = [];
    for (const depth of depths) {
      const stretch = Math.max(500, Math.ceil((depth - ids.length) / 10));
      await closedLoop(depth - ids.length - stretch, CLIENTS, submit, Number.POSITIVE_INFINITY, 'enqueue', failures);
      const t0 = performance.now();
      const last = await closedLoop(stretch, CLIENTS, submit, Number.POSITIVE_INFINITY, 'enqueue', failures);
      const enqueueRate = last.done / ((performance.now() - t0) / 1000);
      const timed = async (fnToTime: () => Promise<void>): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < PROBES; i++) {
          const s = performance.now();
          await fnToTime();
          out.push(performance.now() - s);
        }
        return out;
      };
      const randomId = (): string => ids[Math.floor(Math.random() * ids.length)]!;
      const getTask = await timed(async () => void (await ferry!.json('GET', `/v1/tasks/${randomId()}`, 200)));
      const position = await timed(async () => void (await ferry!.json('GET', `/v1/tasks/${randomId()}/position`, 200)));
      const submits = await timed(submit);
      checkpoints.push({
        depth: ids.length,
        enqueueRate,
        submit: summarize(submits),
        getTask: summarize(getTask),
        position: summarize(position),
        storeBytes: (await ferry.databaseBytes()) ?? dirBytes(dataDir),
        rssBytes: rssOf(ferry.child.pid!),
      });
      log(`depth ${ids.length}: enqueue ${perSecond(enqueueRate)}, GET task p99 ${ms(summarize(getTask).p99)}, position p99 ${ms(summarize(position).p99)}`);
    }
    const notes: string[] = [];
    notes.push(...failures.notes());
    if (ferry.errorCount > 0) notes.push(`the ferry server logged ${ferry.errorCount} error line(s); first: ${ferry.errors.join(' | ')}`);
    notes.push(`the whole run took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
    await publish({ name: 'scale', title: 'Ferry scale benchmark', startedAt, quick, body: renderBody(checkpoints), notes });
  } finally {
    await ferry?.stop(10_000);
    await rm(tmp, { recursive: true, force: true });
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function renderBody(checkpoints: Checkpoint[]): string[] {
  const first = checkpoints[0];
  const rows = checkpoints.map((c) =>
    [
      c.depth.toLocaleString('en-US'),
      perSecond(c.enqueueRate),
      first ? `${Math.round((c.enqueueRate / first.enqueueRate) * 100)}%` : 'n/a',
      `${ms(c.submit.p50)} / ${ms(c.submit.p99)}`,
      `${ms(c.getTask.p50)} / ${ms(c.getTask.p99)}`,
      `${ms(c.position.p50)} / ${ms(c.position.p99)}`,
      mib(c.storeBytes),
      mib(c.rssBytes),
    ].join(' | '),
  );
  return [
    `Tasks enqueued over HTTP by ${CLIENTS} concurrent clients to one version that can never be placed, so all stay queued. At each`,
    `depth: the enqueue rate over the stretch before it (its last 10%, at least 500 tasks), then ${PROBES} sequential submits and`,
    `${PROBES} sequential reads of random queued tasks.`,
    '',
    '| queued | enqueue rate | vs the first depth | submit p50 / p99 | GET task p50 / p99 | position p50 / p99 | store on disk | server RSS |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r} |`),
    '',
    'Targets (PRODUCT.md): at 1,000,000 queued, enqueue ≥ 90% of its empty-queue rate, status and position ≤ 2 ms p99, server',
    'RSS under 300 MB; no query on a hot path scans the queue. "store on disk" is the data directory on SQLite, the schema (tables, indexes, TOAST) on PostgreSQL.',
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
