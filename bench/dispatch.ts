/**
 * Ferry's hot path against the physical floor and the peers, in one run: dispatch latency (async
 * submit → the function receives the task) next to each peer's enqueue → handler start, sync
 * invoke latency through a no-op server-mode function, and a no-op job. Every Ferry number sits
 * next to the same thing done without Ferry on the same machine in the same run (throughput is
 * bench/throughput.ts). Prints a markdown table and writes it to
 * bench/results/dispatch-<date>.md; it reports, it never passes or fails on a time.
 *
 *   node --import tsx bench/dispatch.ts [--quick]
 */
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchEnv, type BenchFunction } from './lib/bench-env.js';
import { httpRequest } from './lib/http-client.js';
import { Failures } from './lib/loops.js';
import { type PeerQueue, openPeers } from './peers/all.js';
import { latencySample, startLatencyWorker } from './peers/measure.js';
import { publish } from './lib/report.js';
import { spawnTrue } from './lib/spawn-true.js';
import { ms, ratio, summarize, type Summary } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Sizes {
  /** Sequential iterations (each runs every sequential case once). */
  sequential: number;
  sequentialWarmup: number;
  /** Samples of a peer that polls (pg-boss: each takes about half a second), warm-up included. */
  polledPeerSamples: number;
  job: number;
  jobWarmup: number;
  calibration: number;
  /** Wall-clock limits, in ms. */
  budget: { total: number; setup: number; sequential: number; job: number };
}

const QUICK: Sizes = {
  sequential: 300,
  sequentialWarmup: 50,
  polledPeerSamples: 40,
  job: 30,
  jobWarmup: 3,
  calibration: 100,
  budget: { total: 200_000, setup: 60_000, sequential: 80_000, job: 30_000 },
};

const FULL: Sizes = {
  sequential: 2000,
  sequentialWarmup: 200,
  polledPeerSamples: 300,
  job: 100,
  jobWarmup: 5,
  calibration: 300,
  budget: { total: 600_000, setup: 60_000, sequential: 300_000, job: 90_000 },
};

const now = (): number => performance.timeOrigin + performance.now();
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const sleep = (msValue: number): Promise<void> => new Promise((r) => setTimeout(r, msValue));
/** A pause after each peer sample, for the peer's own completion work to end. */
const PEER_SETTLE_MS = 10;

interface SequentialSamples {
  inProcess: number[];
  loopback: number[];
  /** Direct call: our send → the function's receive, and that receive → the answer here. */
  directTo: number[];
  directBack: number[];
  dispatch: Record<'c50' | 'c1', { received: number[]; accepted: number[] }>;
  sync: Record<'c50' | 'c1', { total: number[]; to: number[]; back: number[] }>;
  /** Each peer's enqueue → handler start, by peer name. */
  peers: Map<string, number[]>;
  iterations: number;
  stoppedByTime: boolean;
}

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  const startedAt = new Date();
  const hardDeadline = Date.now() + sizes.budget.total;
  let env: BenchEnv | null = null;
  // A stuck run still ends: stop everything and exit, some seconds inside the budget.
  const watchdog = setTimeout(() => {
    log(`still running after ${sizes.budget.total / 1000} s: stopping`);
    void (env?.teardown() ?? Promise.resolve([])).finally(() => process.exit(1));
  }, sizes.budget.total);
  watchdog.unref();

  const failures = new Failures();
  const notes: string[] = [];
  let peers: PeerQueue[] = [];
  try {
    env = await BenchEnv.create(REPO_ROOT, log, Date.now() + sizes.budget.setup);
    if (!argv.includes('--no-peers')) {
      const opened = await openPeers();
      notes.push(...opened.notes);
      for (const peer of opened.peers) await startLatencyWorker(peer);
      peers = opened.peers;
    }
    const c50 = env.functions.c50!;
    const c1 = env.functions.c1!;
    const job = env.functions.job!;
    for (const fn of [c50, c1]) {
      const cal = await env.calibrateClock(fn.instance!.port, sizes.calibration);
      fn.clockOffsetMs = cal.offsetMs;
      notes.push(`clock offset ${fn.name} instance − bench: ${(cal.offsetMs * 1000).toFixed(0)} µs (best round trip ${ms(cal.bestRttMs)}), subtracted from its receive times`);
    }
    const directCal = await env.calibrateClock(env.direct!.port, sizes.calibration);
    env.direct!.clockOffsetMs = directCal.offsetMs;

    log(`sequential cases: ${sizes.sequentialWarmup} warm-up + ${sizes.sequential} iterations`);
    const seq = await sequentialCases(env, c50, c1, peers, sizes, failures, Math.min(hardDeadline - 60_000, Date.now() + sizes.budget.sequential));
    if (seq.stoppedByTime) notes.push(`sequential cases stopped by their time limit after ${seq.iterations} iterations`);

    log(`job mode: ${sizes.jobWarmup} warm-up + ${sizes.job} each way`);
    const jobs = await jobCase(env, job, sizes, failures, Math.min(hardDeadline - 25_000, Date.now() + sizes.budget.job));
    notes.push(...jobs.notes);

    notes.push(...(await deliveryNotes(env, c50, c1)));
    const table = renderTable(seq, jobs);
    notes.push(...failures.notes());
    const ferry = env.ferry!;
    if (ferry.errorCount > 0) notes.push(`the ferry server logged ${ferry.errorCount} error line(s); first: ${ferry.errors.join(' | ')}`);
    notes.push(...(await env.teardown()));
    env = null;

    notes.push(`the whole run took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
    await publish({ name: 'dispatch', title: 'Ferry dispatch benchmark', startedAt, quick, body: renderBody(table), notes });
  } finally {
    for (const peer of peers) await peer.close().catch((err: unknown) => log(`closing ${peer.name}: ${(err as Error).message}`));
    if (env) for (const n of await env.teardown()) log(n);
    clearTimeout(watchdog);
  }
}

/**
 * The sequential cases, interleaved: each iteration runs one of each (a direct call, an async
 * submit to each function, a sync invoke of each), starting at a different case every time, so
 * drift on the machine lands on all of them alike.
 */
async function sequentialCases(env: BenchEnv, c50: BenchFunction, c1: BenchFunction, peers: PeerQueue[], sizes: Sizes, failures: Failures, deadline: number): Promise<SequentialSamples> {
  const ferry = env.ferry!;
  const direct = env.direct!;
  const s: SequentialSamples = {
    inProcess: [],
    loopback: [],
    directTo: [],
    directBack: [],
    dispatch: { c50: { received: [], accepted: [] }, c1: { received: [], accepted: [] } },
    sync: { c50: { total: [], to: [], back: [] }, c1: { total: [], to: [], back: [] } },
    peers: new Map(peers.map((p) => [p.name, []])),
    iterations: 0,
    stoppedByTime: false,
  };

  // The in-process floor: an awaited call of a no-op async function.
  const noop = async (input: unknown): Promise<unknown> => (input === undefined ? null : {});
  for (let i = 0; i < sizes.sequentialWarmup + sizes.sequential; i++) {
    const t0 = performance.now();
    await noop({});
    const t = performance.now() - t0;
    if (i >= sizes.sequentialWarmup) s.inProcess.push(t);
  }

  const directCall = async (record: boolean): Promise<void> => {
    const t0 = now();
    const res = await httpRequest(env.directAgent, direct.port, 'POST', '/', { body: '{}' });
    const t1 = now();
    if (res.status !== 200) throw new Error(`direct call answered ${res.status}`);
    const { receivedAt } = JSON.parse(res.body) as { receivedAt: number };
    if (!record) return;
    s.loopback.push(t1 - t0);
    s.directTo.push(receivedAt - direct.clockOffsetMs - t0);
    s.directBack.push(t1 - (receivedAt - direct.clockOffsetMs));
  };

  /** Waits (bounded) until a submitted task has ended, so its completion does not overlap the next case. */
  const settle = async (taskId: string): Promise<void> => {
    const until = Date.now() + 5000;
    for (;;) {
      const res = await ferry.request('GET', `/v1/tasks/${taskId}`);
      const status = res.status === 200 ? (JSON.parse(res.body) as { status: string }).status : `HTTP ${res.status}`;
      if (status === 'SUCCEEDED') return;
      if (!['QUEUED', 'RUNNING'].includes(status)) throw new Error(`task ${taskId} ended ${status}`);
      if (Date.now() > until) throw new Error(`task ${taskId} still ${status} 5 s after its function received it`);
      await sleep(1);
    }
  };

  const dispatch = (fn: BenchFunction, key: 'c50' | 'c1') => async (record: boolean): Promise<void> => {
    const t0 = now();
    const res = await ferry.request('POST', '/v1/tasks', { body: { functionId: fn.id, input: {} } });
    const t1 = now();
    if (res.status !== 202) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.body.slice(0, 300)}`);
    const { id } = JSON.parse(res.body) as { id: string };
    const receivedAt = await env.receipts.wait(id, 10_000);
    if (receivedAt === null) throw new Error(`task ${id} did not reach ${fn.name} within 10 s`);
    if (record) {
      s.dispatch[key].received.push(receivedAt - fn.clockOffsetMs - t0);
      s.dispatch[key].accepted.push(t1 - t0);
    }
    await settle(id);
  };

  const syncInvoke = (fn: BenchFunction, key: 'c50' | 'c1') => async (record: boolean): Promise<void> => {
    const t0 = now();
    const res = await ferry.request('POST', `/v1/functions/${fn.id}/invoke`, { body: {}, headers: { prefer: 'wait=30' }, timeoutMs: 35_000 });
    const t1 = now();
    if (res.status !== 200) throw new Error(`invoke answered ${res.status}: ${res.body.slice(0, 300)}`);
    const { receivedAt } = JSON.parse(res.body) as { receivedAt: number };
    if (!record) return;
    const at = receivedAt - fn.clockOffsetMs;
    s.sync[key].total.push(t1 - t0);
    s.sync[key].to.push(at - t0);
    s.sync[key].back.push(t1 - at);
  };

  const peerLatency = (peer: PeerQueue) => {
    // A polling peer's samples cost about its polling interval each: it gets one every `every` iterations.
    const every = peer.pollIntervalMs === undefined ? 1 : Math.ceil((sizes.sequentialWarmup + sizes.sequential) / sizes.polledPeerSamples);
    let calls = 0;
    return async (record: boolean): Promise<void> => {
      if (calls++ % every !== 0) return;
      const t = await latencySample(peer);
      if (record) s.peers.get(peer.name)!.push(t);
      // The peer completes its job after the handler started (in Redis or PostgreSQL); let that
      // finish, as the Ferry cases wait for their task to end, so it does not overlap the next case.
      await sleep(PEER_SETTLE_MS);
    };
  };

  const cases: [string, (record: boolean) => Promise<void>][] = [
    ...peers.map((p): [string, (record: boolean) => Promise<void>] => [`${p.name} latency`, peerLatency(p)]),
    ['direct call', directCall],
    ['dispatch c50', dispatch(c50, 'c50')],
    ['sync invoke c50', syncInvoke(c50, 'c50')],
    ['dispatch c1', dispatch(c1, 'c1')],
    ['sync invoke c1', syncInvoke(c1, 'c1')],
  ];
  const total = sizes.sequentialWarmup + sizes.sequential;
  for (let i = 0; i < total; i++) {
    if (Date.now() > deadline) {
      s.stoppedByTime = true;
      break;
    }
    const record = i >= sizes.sequentialWarmup;
    for (let k = 0; k < cases.length; k++) {
      const [name, run] = cases[(i + k) % cases.length]!;
      try {
        await run(record);
      } catch (err) {
        if (failures.add(name, err) > 20) throw new Error(`${name} failed more than 20 times; last: ${(err as Error).message}`);
      }
    }
    // Receive notes of sync invokes are not waited for; drop them.
    env.receipts.clear();
    if (record) s.iterations++;
    if ((i + 1) % 100 === 0) log(`  ${i + 1}/${total}`);
  }
  return s;
}

interface JobResult {
  ferry: number[];
  spawn: number[];
  notes: string[];
}

/** A no-op job through Ferry (sync invoke until it completes) against spawning `true` directly. */
async function jobCase(env: BenchEnv, fn: BenchFunction, sizes: Sizes, failures: Failures, deadline: number): Promise<JobResult> {
  const ferry = env.ferry!;
  const viaFerry = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await ferry.request('POST', `/v1/functions/${fn.id}/invoke`, { body: {}, headers: { prefer: 'wait=30' }, timeoutMs: 35_000 });
    const t = performance.now() - t0;
    if (res.status !== 200) throw new Error(`job invoke answered ${res.status}: ${res.body.slice(0, 300)}`);
    return t;
  };
  const viaSpawn = spawnTrue;
  const out: JobResult = { ferry: [], spawn: [], notes: [] };
  const total = sizes.jobWarmup + sizes.job;
  for (let i = 0; i < total; i++) {
    if (Date.now() > deadline) {
      out.notes.push(`job case stopped by its time limit after ${out.ferry.length} measured invokes`);
      break;
    }
    const record = i >= sizes.jobWarmup;
    const pair: [string, () => Promise<number>, number[]][] = [
      ['job via ferry', viaFerry, out.ferry],
      ['job spawn', viaSpawn, out.spawn],
    ];
    if (i % 2 === 1) pair.reverse();
    for (const [name, run, into] of pair) {
      try {
        const t = await run();
        if (record) into.push(t);
      } catch (err) {
        if (failures.add(name, err) > 10) throw new Error(`${name} failed more than 10 times; last: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

/** Asks each instance which tasks it received; a task received twice is a delivery bug. */
async function deliveryNotes(env: BenchEnv, ...fns: BenchFunction[]): Promise<string[]> {
  const notes: string[] = [];
  for (const fn of fns) {
    const res = await httpRequest(env.directAgent, fn.instance!.port, 'GET', '/times');
    const times = JSON.parse(res.body) as Record<string, number[]>;
    const ids = Object.keys(times);
    const twice = ids.filter((id) => times[id]!.length > 1);
    notes.push(`${fn.name}: ${ids.length} distinct tasks received, ${twice.length} more than once${twice.length ? ` (e.g. ${twice.slice(0, 3).join(', ')})` : ''}`);
  }
  return notes;
}

function renderTable(seq: SequentialSamples, jobs: JobResult): string {
  const rows: string[][] = [];
  const loop = summarize(seq.loopback);
  const inProc = summarize(seq.inProcess);
  const directTo = summarize(seq.directTo);
  const directBack = summarize(seq.directBack);
  const n = (x: Summary): string => `n=${x.n}`;
  const triple = (x: Summary): string => `${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.max)}`;
  const vs = (label: string, ferry: Summary, floor: Summary, floorName: string): void => {
    rows.push([`${label} p50`, ms(ferry.p50), `${ms(floor.p50)} (${floorName})`, ratio(ferry.p50, floor.p50)]);
    rows.push([`${label} p99`, ms(ferry.p99), `${ms(floor.p99)} (${floorName})`, ratio(ferry.p99, floor.p99)]);
    rows.push([`${label} max`, ms(ferry.max), `${ms(floor.max)} (${floorName})`, ratio(ferry.max, floor.max)]);
  };

  rows.push([`floor: in-process call p50 / p99 / max (${n(inProc)})`, '—', triple(inProc), '—']);
  rows.push([`floor: loopback HTTP round trip, keep-alive, p50 / p99 / max (${n(loop)})`, '—', triple(loop), '—']);
  for (const key of ['c50', 'c1'] as const) {
    const d = summarize(seq.dispatch[key].received);
    const acc = summarize(seq.dispatch[key].accepted);
    vs(`dispatch ${key}: POST /v1/tasks → function receives (${n(d)})`, d, loop, 'loopback round trip');
    rows.push([`dispatch ${key}: POST /v1/tasks answered 202, p50`, ms(acc.p50), `${ms(loop.p50)} (loopback round trip)`, ratio(acc.p50, loop.p50)]);
  }
  for (const key of ['c50', 'c1'] as const) {
    const total = summarize(seq.sync[key].total);
    const to = summarize(seq.sync[key].to);
    const back = summarize(seq.sync[key].back);
    vs(`sync invoke ${key} (Prefer: wait=30) (${n(total)})`, total, loop, 'direct call');
    rows.push([`sync invoke ${key}: added latency p50`, `+${ms(total.p50 - loop.p50)}`, '—', '—']);
    rows.push([`sync invoke ${key}: send → function receives, p50`, ms(to.p50), `${ms(directTo.p50)} (direct call)`, ratio(to.p50, directTo.p50)]);
    rows.push([`sync invoke ${key}: function receives → answer, p50`, ms(back.p50), `${ms(directBack.p50)} (direct call)`, ratio(back.p50, directBack.p50)]);
  }
  const c1 = summarize(seq.dispatch.c1.received);
  for (const [name, samples] of seq.peers) {
    const peer = summarize(samples);
    for (const q of ['p50', 'p99', 'max'] as const) {
      rows.push([`dispatch c1 vs ${name}: enqueue → handler starts (n=${peer.n}) ${q}`, ms(c1[q]), `${ms(peer[q])} (${name})`, ratio(c1[q], peer[q])]);
    }
  }
  const jf = summarize(jobs.ferry);
  const js = summarize(jobs.spawn);
  rows.push([`job no-op (\`true\`): sync invoke to completion, p50 (${n(jf)})`, ms(jf.p50), `${ms(js.p50)} (spawn directly)`, ratio(jf.p50, js.p50)]);
  rows.push([`job no-op (\`true\`): sync invoke to completion, p99`, ms(jf.p99), `${ms(js.p99)} (spawn directly)`, ratio(jf.p99, js.p99)]);

  const lines = ['| case | Ferry | floor | ratio |', '| --- | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function renderBody(table: string): string[] {
  return [
    table,
    '',
    'For reading the ratios (PRODUCT.md, "Performance targets"): dispatch p50 ≤ 2× the loopback round trip and p99 below',
    "BullMQ's 4.9 ms; sync invoke ≤ +0.3 ms p50 over a direct call; throughput through Ferry ≥ 60% (sync ≥ 70%) of direct.",
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
