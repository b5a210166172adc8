/**
 * What each runtime adds to an instance's cold start and to a task: a server-mode instance (a
 * Node.js server that is healthy at once) started through the `process` and the `docker` runtime,
 * a warm server call on each, and a job task (a process spawned, or an exec in the instance's
 * container). The runtimes are driven directly, without the control plane, so the table shows
 * the runtimes' own costs. The docker rows need a Docker Engine (DOCKER_HOST); without one they
 * are left out and the notes say so.
 *
 *   node --import tsx bench/runtimes.ts [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerRuntime } from '../src/agent/runtimes/docker/docker-runtime.js';
import { ProcessRuntime } from '../src/agent/runtimes/process/process-runtime.js';
import type { Runtime, RuntimeInstance } from '../src/agent/runtimes/runtime.js';
import { TaskDirs } from '../src/agent/task-files.js';
import { newTask } from '../src/core/new-task.js';
import type { TaskType } from '../src/core/states.js';
import type { VersionSpec } from '../src/core/types.js';
import { TEST_DOCKER_HOST, dockerAvailable, ensureTestImage } from '../test/helpers/docker.js';
import { publish } from './lib/report.js';
import { ms, summarize, type Summary } from './lib/stats.js';

const SERVER = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end(req.url === '/health' ? 'ok' : '{"ok":true}')); }).listen(Number(process.env.PORT));`;
const JOB = `require('node:fs').writeFileSync(process.env.FERRY_OUTPUT_FILE, '1');`;

interface Row {
  runtime: string;
  coldStart: Summary;
  serverCall: Summary;
  jobTask: Summary;
}

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const startedAt = new Date();
  const n = quick ? { starts: 3, calls: 100, jobs: 20 } : { starts: 10, calls: 500, jobs: 100 };
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-runtimes-'));
  const notes: string[] = [];
  const rows: Row[] = [];
  try {
    rows.push(await measure('process', new ProcessRuntime(join(dir, 'process')), { type: 'process' }, [process.execPath], dir, n));
    if (await dockerAvailable()) {
      const image = await ensureTestImage();
      const docker = new DockerRuntime({ stateDir: join(dir, 'docker'), host: TEST_DOCKER_HOST, gpus: 'declared', mounts: [dir] });
      rows.push(await measure('docker', docker, { type: 'docker', image, pullPolicy: 'Never' }, ['/usr/bin/node'], dir, n));
    } else {
      notes.push(`no Docker Engine answers at ${TEST_DOCKER_HOST}: the docker rows are left out`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  notes.push(`${n.starts} cold starts, ${n.calls} warm calls and ${n.jobs} job tasks per runtime, one at a time`);
  const [base] = rows;
  const body = [
    'Each runtime driven directly (no control plane): a Node.js server healthy at once, started, called warm; a job writing its output file.',
    '',
    '| runtime | cold start to healthy, p50 / max | warm server call, p50 / p99 | job task, p50 / p99 | job task minus a warm call, p50 |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.runtime} | ${ms(r.coldStart.p50)} / ${ms(r.coldStart.max)} | ${ms(r.serverCall.p50)} / ${ms(r.serverCall.p99)} | ${ms(r.jobTask.p50)} / ${ms(r.jobTask.p99)} | ${ms(r.jobTask.p50 - r.serverCall.p50)} |`),
    ...(base && rows.length > 1 ? ['', `docker adds ${ms(rows[1]!.coldStart.p50 - base.coldStart.p50)} to a cold start and ${ms(rows[1]!.jobTask.p50 - base.jobTask.p50)} to a job task over process (p50).`] : []),
  ];
  await publish({ name: 'runtimes', title: 'Ferry runtimes benchmark', startedAt, quick, store: false, body, notes });
}

async function measure(name: string, runtime: Runtime, rt: VersionSpec['runtime'], node: string[], dir: string, n: { starts: number; calls: number; jobs: number }): Promise<Row> {
  const spec = (over: Partial<VersionSpec>): VersionSpec => ({
    mode: 'job',
    runtime: rt,
    resources: { gpus: 0 },
    concurrency: 1,
    timeoutSeconds: 60,
    maxQueuedSeconds: 3600,
    retries: 0,
    stopGraceSeconds: 1,
    ...over,
  });
  const serverSpec = spec({ mode: 'server', runtime: { ...rt, command: [...node, '-e', SERVER] }, server: { inferencePath: '/infer', healthPath: '/health', startupTimeoutSeconds: 30 } });
  const jobSpec = spec({ job: { command: [...node, '-e', JOB], output: 'file' } });
  let k = 0;
  const start = (s: VersionSpec): Promise<RuntimeInstance> =>
    runtime.start(
      { instanceId: `ins_${name}_${k++}`, version: { id: 'ver_b', tenantId: 'ten_b', functionId: 'fn_b', number: 1, spec: s, createdAt: 0 }, gpus: [], workDir: join(dir, 'instances', String(k)), onLog: () => {}, onEvent: () => {} },
      new AbortController().signal,
    );
  const taskDirs = new TaskDirs(join(dir, 'tasks', name));
  const run = async (inst: RuntimeInstance, type: TaskType): Promise<number> => {
    const task = { ...newTask({ tenantId: 'ten_b', functionId: 'fn_b', versionId: 'ver_b', taskType: type, input: {}, priority: 0, maxAttempts: 1, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 60_000 }, Date.now()), status: 'RUNNING' as const };
    const files = await taskDirs.acquire(task);
    const t0 = performance.now();
    const result = await inst.run({ task, files, signal: new AbortController().signal, onLog: () => {} });
    const ms = performance.now() - t0;
    if (result.kind !== 'ok') throw new Error(`${name} ${type} task: ${JSON.stringify(result)}`);
    await taskDirs.release(files, true);
    return ms;
  };
  const starts: number[] = [];
  let warm: RuntimeInstance | null = null;
  for (let i = 0; i < n.starts; i++) {
    const t0 = performance.now();
    const inst = await start(serverSpec);
    starts.push(performance.now() - t0);
    if (i < n.starts - 1) await inst.stop(1000);
    else warm = inst;
  }
  const calls: number[] = [];
  for (let i = 0; i < n.calls; i++) calls.push(await run(warm!, 'query'));
  await warm!.stop(1000);
  const jobInstance = await start(jobSpec);
  const jobs: number[] = [];
  for (let i = 0; i < n.jobs; i++) jobs.push(await run(jobInstance, 'command'));
  await jobInstance.stop(1000);
  return { runtime: name, coldStart: summarize(starts), serverCall: summarize(calls), jobTask: summarize(jobs) };
}
