/**
 * Throughput through a no-op server-mode function at instance concurrency 1 and 50, in tasks/s:
 * Ferry (async submits, streamed and pre-enqueued; sync invokes) against the floor of calling the
 * function directly at the same concurrency, and against each peer, both with an in-process no-op
 * handler and with a handler that forwards each job to the same no-op HTTP function (what a user
 * would build instead of Ferry). Each case runs twice, in the order A…Z then Z…A, with half of N
 * each time, so drift on the machine favours none. Prints a markdown table and writes it to
 * bench/results/throughput-<date>.md; it never passes or fails on a time.
 *
 *   node --import tsx bench/throughput.ts [--quick] [--no-peers]
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchEnv, type BenchFunction } from './lib/bench-env.js';
import { httpRequest } from './lib/http-client.js';
import { Failures, closedLoop } from './lib/loops.js';
import { publish } from './lib/report.js';
import { spawnTrue } from './lib/spawn-true.js';
import { perSecond, ratio } from './lib/stats.js';
import { type PeerQueue, openPeers } from './peers/all.js';
import { throughput as peerThroughput } from './peers/measure.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCIES = [1, 50] as const;

interface Sizes {
  n: number;
  /** The longest one run of one case may take, in ms; a run cut short says so in the notes. */
  runBudgetMs: number;
  totalBudgetMs: number;
}
const QUICK: Sizes = { n: 600, runBudgetMs: 4_000, totalBudgetMs: 200_000 };
const FULL: Sizes = { n: 5_000, runBudgetMs: 30_000, totalBudgetMs: 900_000 };

/** One run of a case: how many tasks it completed in how long. */
interface Run {
  done: number;
  seconds: number;
  cut: boolean;
}
/** A way of running the no-op work; `job` cases are read against spawning `true`, the others against direct calls. */
type Case = { name: string; concurrency: number; job?: true; run: (n: number, deadline: number) => Promise<Run> };

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function main(argv: readonly string[]): Promise<void> {
  const sizes = argv.includes('--quick') ? QUICK : FULL;
  const startedAt = new Date();
  const hardDeadline = Date.now() + sizes.totalBudgetMs;
  const failures = new Failures();
  const notes: string[] = [];
  let env: BenchEnv | null = null;
  let peers: PeerQueue[] = [];
  try {
    env = await BenchEnv.create(REPO_ROOT, log, Date.now() + 60_000);
    if (!argv.includes('--no-peers')) {
      const opened = await openPeers();
      peers = opened.peers;
      notes.push(...opened.notes);
    }
    const cases = [...ferryCases(env, failures), ...peerCases(env, peers, failures)];
    const results = new Map<Case, Run>();
    // Forward, then backward, half of N each: a trend over the run lands on every case alike.
    for (const order of [cases, [...cases].reverse()]) {
      for (const c of order) {
        if (Date.now() > hardDeadline) {
          notes.push(`stopped by the total time limit before ${c.name} at c=${c.concurrency}`);
          continue;
        }
        log(`${c.name}, concurrency ${c.concurrency}`);
        const r = await c.run(Math.ceil(sizes.n / 2), Math.min(hardDeadline, Date.now() + sizes.runBudgetMs)).catch((err: unknown) => {
          failures.add(c.name, err);
          return { done: 0, seconds: 0, cut: true };
        });
        const acc = results.get(c) ?? { done: 0, seconds: 0, cut: false };
        results.set(c, { done: acc.done + r.done, seconds: acc.seconds + r.seconds, cut: acc.cut || r.cut });
      }
    }
    for (const [c, r] of results) if (r.cut) notes.push(`${c.name} at c=${c.concurrency} was cut short by its time limit: ${r.done} of ${sizes.n} done`);
    notes.push(...failures.notes());
    await publish({ name: 'throughput', title: 'Ferry throughput benchmark', startedAt, quick: sizes === QUICK, body: renderBody(sizes, results), notes });
  } finally {
    for (const p of peers) await p.close().catch((err: unknown) => log(`closing ${p.name}: ${(err as Error).message}`));
    if (env) for (const n of await env.teardown()) log(n);
  }
}

/** The floor and Ferry's ways of running the no-op function, at each concurrency. */
function ferryCases(env: BenchEnv, failures: Failures): Case[] {
  const ferry = env.ferry!;
  const direct = env.direct!;
  const fnAt = (c: number): BenchFunction => (c === 1 ? env.functions.c1! : env.functions.c50!);
  const cases: Case[] = [];
  const jobs: Record<number, BenchFunction> = {};
  for (const c of CONCURRENCIES) {
    cases.push({
      name: 'floor: direct calls',
      concurrency: c,
      run: (n, deadline) =>
        closedLoop(n, c, async () => {
          const res = await httpRequest(env.directAgent, direct.port, 'POST', '/', { body: '{}' });
          if (res.status !== 200) throw new Error(`direct call answered ${res.status}`);
        }, deadline, 'direct', failures),
    });
    cases.push({
      name: 'Ferry: sync invoke',
      concurrency: c,
      run: (n, deadline) =>
        closedLoop(n, c, async () => {
          const res = await ferry.request('POST', `/v1/functions/${fnAt(c).id}/invoke`, { body: {}, headers: { prefer: 'wait=30' }, timeoutMs: 35_000 });
          if (res.status !== 200) throw new Error(`invoke answered ${res.status}: ${res.body.slice(0, 200)}`);
        }, deadline, 'sync invoke', failures),
    });
    cases.push({
      name: 'Ferry: async submits, streamed',
      concurrency: c,
      run: async (n, deadline) => {
        const fn = fnAt(c);
        const t0 = performance.now();
        const sent = await closedLoop(n, c, () => submit(env, fn), deadline, 'submit', failures);
        const drained = await untilDrained(env, fn, deadline);
        return { done: sent.done, seconds: (performance.now() - t0) / 1000, cut: sent.cut || !drained };
      },
    });
    cases.push({
      name: 'floor: spawning `true` directly (job mode)',
      concurrency: c,
      job: true,
      run: (n, deadline) => closedLoop(n, c, async () => void (await spawnTrue()), deadline, 'spawn', failures),
    });
    cases.push({
      name: 'Ferry: async submits of a `true` job, streamed',
      concurrency: c,
      job: true,
      run: async (n, deadline) => {
        jobs[c] ??= await env.deploy({
          name: `bench-job-c${c}`,
          version: { mode: 'job', runtime: { type: 'process', cwd: env.tmp }, job: { command: ['true'] }, concurrency: c, timeoutSeconds: 60, retries: 0 },
        });
        await env.waitReady(jobs[c]!, 30_000);
        const t0 = performance.now();
        const sent = await closedLoop(n, c, () => submit(env, jobs[c]!), deadline, 'submit job', failures);
        const drained = await untilDrained(env, jobs[c]!, deadline);
        return { done: sent.done, seconds: (performance.now() - t0) / 1000, cut: sent.cut || !drained };
      },
    });
    let pre = 0;
    cases.push({
      name: 'Ferry: async submits, pre-enqueued',
      concurrency: c,
      run: async (n, deadline) => {
        // A fresh function whose instance listens only once told to: every task is queued first.
        const go = join(env.tmp, `go-pre-${c}-${++pre}`);
        const fn = await env.deploy(env.serverFunction(`bench-pre-c${c}-${pre}`, c, { BENCH_GO_FILE: go }));
        const sent = await closedLoop(n, 50, () => submit(env, fn), deadline, 'pre-enqueue', failures);
        const t0 = performance.now();
        await writeFile(go, '');
        const drained = await untilDrained(env, fn, deadline);
        const seconds = (performance.now() - t0) / 1000;
        await ferry.request('DELETE', `/v1/functions/${fn.id}/versions/${fn.versionId}/deployment`);
        return { done: sent.done, seconds, cut: sent.cut || !drained };
      },
    });
  }
  return cases;
}

/** Each peer with a no-op handler and with one forwarding to the no-op function, both ways of feeding it. */
function peerCases(env: BenchEnv, peers: PeerQueue[], failures: Failures): Case[] {
  const cases: Case[] = [];
  for (const peer of peers) {
    for (const c of CONCURRENCIES) {
      for (const forward of [false, true]) {
        for (const mode of ['streamed', 'preenqueued'] as const) {
          cases.push({
            name: `${peer.name}: ${forward ? 'forwards to the function' : 'no-op handler'}, ${mode === 'streamed' ? 'streamed' : 'pre-enqueued'}`,
            concurrency: c,
            run: async (n, deadline) => {
              const r = await peerThroughput(peer, { n, concurrency: c, mode, forwardToPort: forward ? env.direct!.port : undefined, deadline });
              if (r.failed > 0) failures.add(`${peer.name} (c=${c}, ${mode}${forward ? ', forwarding' : ''})`, new Error(`${r.failed} failed; first: ${r.firstError}`));
              return r;
            },
          });
        }
      }
    }
  }
  return cases;
}

async function submit(env: BenchEnv, fn: BenchFunction): Promise<void> {
  const res = await env.ferry!.request('POST', '/v1/tasks', { body: { functionId: fn.id, input: {} } });
  if (res.status !== 202) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.body.slice(0, 200)}`);
}

/** Polls the function's queue every 5 ms until nothing is queued or running; false past the deadline. */
async function untilDrained(env: BenchEnv, fn: BenchFunction, deadline: number): Promise<boolean> {
  for (;;) {
    const q = await env.ferry!.json<{ queued: number; running: number }>('GET', `/v1/functions/${fn.id}/queue`, 200);
    if (q.queued === 0 && q.running === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

function renderBody(sizes: Sizes, results: Map<Case, Run>): string[] {
  const rate = (r: Run | undefined): number => (r && r.seconds > 0 ? r.done / r.seconds : Number.NaN);
  const rows = new Map<string, { job: boolean; at: Map<number, number> }>();
  for (const [c, r] of results) {
    const row = rows.get(c.name) ?? { job: c.job === true, at: new Map<number, number>() };
    row.at.set(c.concurrency, rate(r));
    rows.set(c.name, row);
  }
  const floorOf = (job: boolean): Map<number, number> => rows.get(job ? 'floor: spawning `true` directly (job mode)' : 'floor: direct calls')?.at ?? new Map();
  const ferry = rows.get('Ferry: async submits, streamed')?.at ?? new Map<number, number>();
  const header = ['case', ...CONCURRENCIES.flatMap((c) => [`c=${c}`, `c=${c} ÷ floor`, `Ferry streamed c=${c} ÷ this`])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const [name, row] of rows) {
    const cells = CONCURRENCIES.flatMap((c) => {
      const v = row.at.get(c) ?? Number.NaN;
      const peer = !name.startsWith('Ferry') && !name.startsWith('floor');
      return [perSecond(v), ratio(v, floorOf(row.job).get(c) ?? Number.NaN), peer ? ratio(ferry.get(c) ?? Number.NaN, v) : '—'];
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return [
    `N=${sizes.n} tasks per case and concurrency (two runs of N/2, in opposite orders), no-op work. "c" is the function's instance`,
    'concurrency for Ferry and the floor, and the worker concurrency for the peers; streamed cases feed from c concurrent',
    'producers. The no-op server-mode function is the same process for the floor and the forwarding peers. Job-mode rows are',
    'read against spawning `true` directly at the same concurrency, the others against calling the function directly.',
    '',
    ...lines,
    '',
    'Targets (PRODUCT.md), at c=50: async submits streamed ≥ 40% of direct calls and pre-enqueued ≥ 55%; streamed ≥ 1.0× BullMQ',
    'forwarding each job to the same function, and on the PostgreSQL store ≥ 1.5× graphile-worker forwarding.',
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
