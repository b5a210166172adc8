import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { onInterrupt } from './interrupts.js';
import { FerryServer } from './ferry-server.js';
import { httpRequest, keepAliveAgent } from './http-client.js';
import { Receipts, functionProcesses, startDirectFunction, writeNoopFunction } from './noop-function.js';

/** A function created and deployed on the Ferry under test. */
export interface BenchFunction {
  name: string;
  id: string;
  versionId: string;
  /** Server mode only: the instance Ferry started, reachable directly for clock calibration. */
  instance?: { port: number; pid: number };
  /** Server mode only: the instance's clock minus ours (see `calibrateClock`). */
  clockOffsetMs: number;
}

export type Log = (msg: string) => void;

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Everything the benchmark runs against: a temp dir, a real `ferry server` with three deployed
 * functions (no-op server mode at concurrency 50 and 1, no-op job mode), the same no-op function
 * started directly (the floor), and the UDP listener for receive times. `teardown` stops every
 * process started here, by its pid, and removes the temp dir.
 */
export class BenchEnv {
  ferry: FerryServer | null = null;
  direct: { child: ChildProcess; port: number; clockOffsetMs: number } | null = null;
  readonly directAgent = keepAliveAgent(50);
  readonly receipts = new Receipts();
  readonly functions: { c50?: BenchFunction; c1?: BenchFunction; job?: BenchFunction } = {};
  private tornDown: Promise<string[]> | null = null;
  /** Names of every function deployed here: their instance processes are checked at teardown. */
  private readonly deployed: string[] = [];
  private forgetInterrupt: () => void = () => {};
  private script = '';
  private notifyPort = 0;

  private constructor(
    readonly tmp: string,
    readonly fnDir: string,
    readonly dataDir: string,
    private readonly log: Log,
  ) {}

  /** `serverEnv`: environment for the Ferry server besides the bench's own (e.g. FERRY_METRICS=off). */
  static async create(repoRoot: string, log: Log, deadline: number, serverEnv: Record<string, string> = {}): Promise<BenchEnv> {
    const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
    const env = new BenchEnv(tmp, join(tmp, 'fn'), join(tmp, 'data'), log);
    env.forgetInterrupt = onInterrupt(() => env.teardown());
    try {
      await env.setUp(repoRoot, deadline, serverEnv);
      return env;
    } catch (err) {
      const notes = await env.teardown();
      for (const n of notes) log(n);
      throw err;
    }
  }

  private async setUp(repoRoot: string, deadline: number, serverEnv: Record<string, string>): Promise<void> {
    await mkdir(this.fnDir, { recursive: true });
    const script = await writeNoopFunction(this.fnDir);
    const notifyPort = await this.receipts.listen();
    const left = (): number => Math.max(1000, deadline - Date.now());

    this.script = script;
    this.notifyPort = notifyPort;
    const direct = await startDirectFunction(process.execPath, script, this.fnDir, Math.min(10_000, left()));
    this.direct = { ...direct, clockOffsetMs: 0 };

    this.ferry = await FerryServer.start(repoRoot, this.dataDir, Math.min(30_000, left()), serverEnv);
    this.log(`ferry server at ${this.ferry.url} (pid ${this.ferry.child.pid})`);

    const job = {
      name: 'bench-job-noop',
      version: { mode: 'job', runtime: { type: 'process', cwd: this.fnDir }, job: { command: ['true'] }, concurrency: 1, timeoutSeconds: 60, retries: 0 },
    };
    this.functions.c50 = await this.deploy(this.serverFunction('bench-noop-c50', 50));
    this.functions.c1 = await this.deploy(this.serverFunction('bench-noop-c1', 1));
    this.functions.job = await this.deploy(job);
    for (const fn of Object.values(this.functions)) await this.waitReady(fn, Math.min(60_000, left()));
    for (const fn of [this.functions.c50, this.functions.c1]) {
      const procs = await functionProcesses(this.fnDir, fn.name);
      if (procs.length !== 1) throw new Error(`${fn.name}: expected one running instance, found ${procs.length} port files`);
      fn.instance = procs[0]!;
    }
  }

  /** The no-op function as a server-mode Ferry function; `env` adds to its environment. */
  serverFunction(name: string, concurrency: number, env: Record<string, string> = {}): { name: string; version: Record<string, unknown> } {
    return {
      name,
      version: {
        mode: 'server',
        runtime: {
          type: 'process',
          command: [process.execPath, this.script],
          cwd: this.fnDir,
          env: { BENCH_FN_DIR: this.fnDir, BENCH_FN_NAME: name, BENCH_NOTIFY_PORT: String(this.notifyPort), ...env },
        },
        server: { inferencePath: '/', healthPath: '/health', startupTimeoutSeconds: 300 },
        concurrency,
        timeoutSeconds: 60,
        retries: 0,
      },
    };
  }

  /** Creates a function and deploys it with one instance. */
  async deploy(def: { name: string; version: Record<string, unknown> }): Promise<BenchFunction> {
    const ferry = this.ferry!;
    const created = await ferry.json<{ id: string; version: { id: string } }>('POST', '/v1/functions', 201, def);
    const fn: BenchFunction = { name: def.name, id: created.id, versionId: created.version.id, clockOffsetMs: 0 };
    this.deployed.push(def.name);
    await ferry.json('PUT', `/v1/functions/${fn.id}/versions/${fn.versionId}/deployment`, 202, { minInstances: 1, maxInstances: 1 });
    return fn;
  }

  /** Polls the deployment until it is ACTIVE with an IDLE instance. */
  async waitReady(fn: BenchFunction, timeoutMs: number): Promise<void> {
    const started = Date.now();
    let last = '';
    while (Date.now() - started < timeoutMs) {
      const d = await this.ferry!.json<{ state: string; reason: string | null; instances: { state: string }[] }>(
        'GET',
        `/v1/functions/${fn.id}/versions/${fn.versionId}/deployment`,
        200,
      );
      last = `${d.state}${d.reason ? ` (${d.reason})` : ''}, instances: ${d.instances.map((i) => i.state).join(', ') || 'none'}`;
      if (d.state === 'ACTIVE' && d.instances.some((i) => i.state === 'IDLE')) {
        this.log(`${fn.name} ready in ${Date.now() - started} ms`);
        return;
      }
      if (d.state === 'ERROR') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${fn.name}: deployment not ACTIVE with an IDLE instance after ${Date.now() - started} ms: ${last}`);
  }

  /**
   * The offset between a function process's clock (performance.timeOrigin + performance.now())
   * and ours, from the quickest of `samples` direct round trips: receivedAt − midpoint. Both
   * clocks derive from the same system clock, so this is normally a few microseconds; it is
   * measured rather than assumed, and subtracted from every receive time.
   */
  async calibrateClock(port: number, samples: number): Promise<{ offsetMs: number; bestRttMs: number }> {
    let best = { offsetMs: 0, bestRttMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < samples; i++) {
      const t0 = now();
      const res = await httpRequest(this.directAgent, port, 'POST', '/', { body: '{}' });
      const t1 = now();
      const { receivedAt } = JSON.parse(res.body) as { receivedAt: number };
      if (t1 - t0 < best.bestRttMs) best = { offsetMs: receivedAt - (t0 + t1) / 2, bestRttMs: t1 - t0 };
    }
    return best;
  }

  /** Stops everything this benchmark started and removes the temp dir; returns notes on what it had to force. */
  teardown(): Promise<string[]> {
    this.forgetInterrupt();
    this.tornDown ??= this.doTeardown();
    return this.tornDown;
  }

  private async doTeardown(): Promise<string[]> {
    const notes: string[] = [];
    this.directAgent.destroy();
    try {
      this.receipts.close();
    } catch {
      // Never bound: nothing to close.
    }
    if (this.direct) {
      if ((await stopPid(this.direct.child.pid, 2000)) === 'killed') notes.push('the direct no-op function needed SIGKILL');
    }
    if (this.ferry) {
      const how = await this.ferry.stop(5000);
      if (how === 'killed') notes.push('ferry server did not exit within 5 s of SIGTERM and was SIGKILLed');
    }
    // Instances Ferry started should be gone with it; any left are stopped here, by pid.
    for (const name of this.deployed) {
      for (const p of await functionProcesses(this.fnDir, name).catch(() => [])) {
        const how = await stopPid(p.pid, 2000);
        if (how !== 'gone') notes.push(`instance process ${p.pid} (${name}) outlived the ferry server and was ${how === 'killed' ? 'SIGKILLed' : 'SIGTERMed'}`);
      }
    }
    await rm(this.tmp, { recursive: true, force: true });
    return notes;
  }
}

/** Running, not merely a zombie waiting for its parent (or a container's init) to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM a pid, SIGKILL it after `graceMs`; says what it took. */
async function stopPid(pid: number | undefined, graceMs: number): Promise<'gone' | 'terminated' | 'killed'> {
  if (pid === undefined || !alive(pid)) return 'gone';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return 'terminated';
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited between the check and the kill.
  }
  return 'killed';
}
