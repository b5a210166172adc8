/**
 * How fast Ferry's autoscaler follows a burst, cold: for a few `targetPerInstance` settings, a
 * burst of tasks lands on a deployment with no instance (`minInstances: 0`) of a function whose
 * own start takes a known time. It reports the time from the first enqueue to the first instance
 * start request and to the first task running, Ferry's share of the cold start beyond the
 * function's own start, queue wait p50/p99, the makespan against the ideal for the instances the
 * policy allowed, and how long after its window the deployment scaled back to zero. Prints a
 * markdown table and writes it to bench/results/scaling-<date>.md; it never passes or fails.
 *
 *   node --import tsx bench/scaling.ts [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FerryServer } from './lib/ferry-server.js';
import { publish } from './lib/report.js';
import { ms, ratio, summarize } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The function's own start (like loading weights) and each task's work, both known. */
const START_MS = 500;
const WORK_MS = 100;
const MAX_INSTANCES = 8;
const WINDOW_S = 1;
const TARGETS = [1, 2, 4, 8];

/** A server-mode function that starts listening START_MS after launch and sleeps WORK_MS per task. */
const FUNCTION_SOURCE = `
import http from 'node:http';
const server = http.createServer((req, res) => {
  if (req.method === 'GET') return res.end('ok');
  req.resume();
  req.on('end', () => setTimeout(() => res.end('{}'), ${WORK_MS}));
});
setTimeout(() => server.listen(Number(process.env.PORT), '127.0.0.1'), ${START_MS});
`;

interface Instance {
  id: string;
  state: string;
  createdAt: string;
  readyAt: string | null;
}
interface Deployment {
  state: string;
  instances: Instance[];
  events: { at: string; kind: string; subject: string; to: string }[];
}
interface Task {
  id: string;
  status: string;
  attempt: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface CaseResult {
  target: number;
  burst: number;
  toStartRequest: number;
  toFirstRunning: number;
  firstReady: number;
  queueWait: { p50: number; p99: number };
  peak: number;
  makespan: number;
  idealMakespan: number;
  scaleToZeroLag: number;
  notes: string[];
}

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const sleep = (msValue: number): Promise<void> => new Promise((r) => setTimeout(r, msValue));
const at = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const burst = quick ? 32 : 128;
  const startedAt = new Date();
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-scaling-'));
  let ferry: FerryServer | null = null;
  const watchdog = setTimeout(() => {
    log('still running after 240 s: stopping');
    void (ferry?.stop(5_000) ?? Promise.resolve()).finally(() => process.exit(1));
  }, 240_000);
  watchdog.unref();
  try {
    await writeFile(join(tmp, 'fn.mjs'), FUNCTION_SOURCE);
    ferry = await FerryServer.start(REPO_ROOT, join(tmp, 'data'), 60_000);
    const results: CaseResult[] = [];
    for (const target of TARGETS) {
      log(`target ${target}: a burst of ${burst} tasks on a cold deployment`);
      results.push(await burstCase(ferry, tmp, target, burst));
    }
    // The floor for each peak instance count seen, measured after Ferry's runs, with Ferry idle.
    const floors = new Map<number, number>();
    for (const peak of new Set(results.map((r) => r.peak))) {
      const samples: number[] = [];
      for (let k = 0; k < 3; k++) samples.push(await directColdStart(join(tmp, 'fn.mjs'), peak));
      floors.set(peak, summarize(samples).p50);
    }
    const notes = results.flatMap((r) => r.notes.map((n) => `target ${r.target}: ${n}`));
    if (ferry.errorCount > 0) notes.push(`the ferry server logged ${ferry.errorCount} error line(s); first: ${ferry.errors.join(' | ')}`);
    notes.push(`the whole run took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
    await publish({ name: 'scaling', title: 'Ferry scaling benchmark', startedAt, quick, body: renderBody(burst, floors, results), notes });
  } finally {
    clearTimeout(watchdog);
    await ferry?.stop(5_000);
    await rm(tmp, { recursive: true, force: true });
  }
}

async function burstCase(ferry: FerryServer, tmp: string, target: number, burst: number): Promise<CaseResult> {
  const created = await ferry.json<{ id: string; version: { id: string } }>('POST', '/v1/functions', 201, {
    name: `burst-t${target}`,
    version: { mode: 'server', runtime: { type: 'process', command: [process.execPath, join(tmp, 'fn.mjs')] }, server: { inferencePath: '/', healthPath: '/health' } },
  });
  const base = `/v1/functions/${created.id}/versions/${created.version.id}`;
  await ferry.json('PUT', `${base}/deployment`, 202, {
    minInstances: 0,
    maxInstances: MAX_INSTANCES,
    targetPerInstance: target,
    scaleDownDelaySeconds: WINDOW_S,
    scaleToZeroAfterSeconds: WINDOW_S,
  });

  // A burst reaches a deployment that has been quiet a while, not one deployed a moment ago (the
  // reconciler folds events that follow a pass within 20 ms into one pass at the end of that gap).
  await sleep(200);
  // The burst: every submit in flight at once, as a client with many callers would send it.
  const t0 = Date.now();
  const ids = await Promise.all(
    Array.from({ length: burst }, async (_, n) => (await ferry.json<{ id: string }>('POST', '/v1/tasks', 202, { functionId: created.id, input: { n } })).id),
  );
  const tasks = await waitForTasks(ferry, ids, 60_000);
  const lastFinish = Math.max(...tasks.map((t) => at(t.finishedAt)));
  const zero = await waitForZero(ferry, base, 30_000);

  const notes: string[] = [];
  const bad = tasks.filter((t) => t.status !== 'SUCCEEDED' || t.attempt !== 1);
  if (bad.length > 0) notes.push(`${bad.length} task(s) did not succeed on the first attempt`);
  const instances = zero.instances;
  if (instances.length >= 10) notes.push('the deployment lists only its last 10 ended instances: the peak may be higher');
  const firstStart = Math.min(...instances.map((i) => at(i.createdAt)));
  const firstReady = Math.min(...instances.map((i) => at(i.readyAt)).filter(Number.isFinite));
  const firstRunning = Math.min(...tasks.map((t) => at(t.startedAt)));
  const peak = peakLive(zero.events);
  // With `peak` instances of concurrency 1, the best a scheduler can do: one start, then the work in rounds.
  const idealMakespan = START_MS + Math.ceil(burst / Math.max(1, peak)) * WORK_MS;
  // The last drain is the one to zero.
  const drainedAt = Math.max(...zero.events.filter((e) => e.kind === 'instance' && e.to === 'DRAINING').map((e) => at(e.at)));
  return {
    target,
    burst,
    toStartRequest: firstStart - t0,
    toFirstRunning: firstRunning - t0,
    firstReady: firstReady - t0,
    queueWait: summarize(tasks.map((t) => at(t.startedAt) - at(t.createdAt))),
    peak,
    makespan: lastFinish - t0,
    idealMakespan,
    scaleToZeroLag: drainedAt - (lastFinish + WINDOW_S * 1000),
    notes,
  };
}

async function waitForTasks(ferry: FerryServer, ids: string[], timeoutMs: number): Promise<Task[]> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, Task>();
  while (done.size < ids.length) {
    if (Date.now() > deadline) throw new Error(`${ids.length - done.size} task(s) not finished after ${timeoutMs} ms`);
    for (const id of ids) {
      if (done.has(id)) continue;
      const t = await ferry.json<Task>('GET', `/v1/tasks/${id}`, 200);
      if (t.finishedAt !== null) done.set(id, t);
    }
    if (done.size < ids.length) await sleep(100);
  }
  return ids.map((id) => done.get(id)!);
}

async function waitForZero(ferry: FerryServer, base: string, timeoutMs: number): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await ferry.json<Deployment>('GET', `${base}/deployment`, 200);
    if (d.instances.every((i) => i.state === 'STOPPED' || i.state === 'FAILED')) return d;
    if (Date.now() > deadline) throw new Error(`the deployment did not scale to zero within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * The cold-start floor: `count` copies of the function spawned at once, outside Ferry, and the
 * time until the first answers 200 on its health path (polled every millisecond). With several,
 * the boots share the cores as a burst's instances do.
 */
async function directColdStart(file: string, count: number): Promise<number> {
  const ports = await Promise.all(Array.from({ length: count }, freePort));
  const t0 = Date.now();
  const children = ports.map((port) => spawn(process.execPath, [file], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' }));
  try {
    for (;;) {
      const answers = await Promise.all(ports.map(healthy));
      if (answers.some(Boolean)) return Date.now() - t0;
      if (Date.now() - t0 > 30_000) throw new Error('the function started directly did not answer within 30 s');
      await sleep(1);
    }
  } finally {
    await Promise.all(
      children.map((child) => {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        return exited;
      }),
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((r) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      r(res.statusCode === 200);
    });
    req.on('error', () => r(false));
  });
}

/** The most instances live at one time, replayed from the deployment's events. */
function peakLive(events: Deployment['events']): number {
  const live = new Set<string>();
  let peak = 0;
  for (const e of events) {
    if (e.kind !== 'instance') continue;
    if (e.to === 'STARTING') live.add(e.subject);
    else if (e.to === 'STOPPED' || e.to === 'FAILED') live.delete(e.subject);
    peak = Math.max(peak, live.size);
  }
  return peak;
}

function renderBody(burst: number, floors: Map<number, number>, results: CaseResult[]): string[] {
  const rows = results.map((r) =>
    [
      `${r.target}`,
      `${r.peak}`,
      ms(r.toStartRequest),
      ms(r.firstReady),
      ms(r.toFirstRunning),
      ms(floors.get(r.peak)!),
      ms(r.toFirstRunning - floors.get(r.peak)!),
      ms(r.queueWait.p50),
      ms(r.queueWait.p99),
      `${ms(r.makespan)} (${ratio(r.makespan, r.idealMakespan)})`,
      ms(r.scaleToZeroLag),
    ].join(' | '),
  );
  return [
    `A burst of ${burst} tasks (${WORK_MS} ms of work each) on a cold deployment (min 0, max ${MAX_INSTANCES}, concurrency 1) of a`,
    `server-mode function whose own start takes ${START_MS} ms; scale-down and scale-to-zero windows ${WINDOW_S} s.`,
    '',
    '| target | peak instances | enqueue → start requested | → first instance ready | → first task running | floor: started directly | Ferry share of the cold start | queue wait p50 | queue wait p99 | makespan (× ideal) | scale to zero after its window |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
    '',
    '"Floor: started directly" spawns as many copies of the function as the peak instance count at once, outside Ferry, and',
    `times spawn → the first answers its health path (polled every millisecond; p50 of 3): Node's boot plus its ${START_MS} ms, the`,
    'boots sharing the cores as the instances of a burst do. "Ferry share of the cold start" is enqueue → first task running minus',
    `that floor. The ideal makespan is the ${START_MS} ms start plus the work in rounds of the peak instance count. Scale to zero is measured from the end of the`,
    "window (last task's end + the window) to the drain event. Peers (PRODUCT.md): EAS reacts in about 10 s, KEDA polls every",
    "30 s, Knative's panic window is 6 s; Ferry's targets are ≤ 100 ms to the start request and ≤ 100 ms after a window's end.",
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
