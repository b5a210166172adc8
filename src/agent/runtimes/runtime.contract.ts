import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../core/ids.js';
import { newTask } from '../../core/new-task.js';
import { outputValue } from '../../core/outputs.js';
import type { TaskType } from '../../core/states.js';
import type { GpuAssignment, TaskRecord, VersionRecord, VersionSpec } from '../../core/types.js';
import { TaskDirs, type TaskFiles } from '../task-files.js';
import type { LogStream, RunResult, Runtime, RuntimeInstance } from './runtime.js';
import { INIT, JOB_ECHO, JOB_FAIL, JOB_LEAVES_CHILD, JOB_MARK_AND_WAIT, JOB_PRINT, JOB_WITH_CHILD, JOB_WRITE, SERVER } from './runtime-scripts.contract.js';

/** How the contract expresses work for one runtime. */
export interface RuntimeFixtures {
  /** The `runtime` section of a version spec, less `command` and `env` (the suite sets those). */
  runtime: Omit<VersionSpec['runtime'], 'command' | 'env'>;
  /** The argv that runs this Node.js (CommonJS) script where the runtime runs its work. */
  node(script: string): string[];
  /** A fresh directory that the suite and the work see at the same path; the suite removes it. */
  makeDir(): Promise<string>;
  /** Whether a pid the work wrote down is still running, as seen from the suite. */
  isRunning(pid: number): boolean;
}

const FUNCTION_ID = 'fn_contract';
const VERSION_ID = 'ver_contract';
const TENANT_ID = 'ten_contract';

/**
 * The runtime contract: every runtime must pass it unchanged. It runs real processes and real
 * HTTP; `fixtures` says how to express a command for the runtime under test.
 */
export function runRuntimeContract(name: string, makeRuntime: (stateDir: string) => Runtime, fixtures: RuntimeFixtures): void {
  describe(`runtime contract: ${name}`, () => {
    let runtime: Runtime;
    let dir: string;
    let taskDirs: TaskDirs;
    let instances: RuntimeInstance[];
    let controllers: AbortController[];
    let pending: Promise<unknown>[];
    let instanceLogs: string;

    beforeEach(async () => {
      dir = await fixtures.makeDir();
      taskDirs = new TaskDirs(join(dir, 'tasks'));
      runtime = makeRuntime(join(dir, 'state'));
      instances = [];
      controllers = [];
      pending = [];
      instanceLogs = '';
    });

    afterEach(async () => {
      for (const c of controllers) c.abort();
      // Instances are stopped and the directory removed even when a run never ended.
      const settled = await within(Promise.allSettled(pending), 5000, 'pending starts and runs to settle').catch((err: Error) => err);
      await within(Promise.allSettled(instances.map((i) => i.stop(1000))), 5000, 'instances to stop');
      await rm(dir, { recursive: true, force: true });
      if (settled instanceof Error) throw settled;
    });

    function controller(): AbortController {
      const c = new AbortController();
      controllers.push(c);
      return c;
    }

    function spec(over: Partial<VersionSpec> & { env?: Record<string, string> } = {}): VersionSpec {
      const { env, ...rest } = over;
      return {
        mode: 'job',
        runtime: { ...fixtures.runtime, env: { CONTRACT_DIR: dir, ...env } },
        resources: { gpus: 0 },
        concurrency: 4,
        timeoutSeconds: 60,
        maxQueuedSeconds: 3600,
        retries: 0,
        stopGraceSeconds: 1,
        ...rest,
      };
    }

    function serverSpec(over: { env?: Record<string, string>; init?: string[]; startupTimeoutSeconds?: number } = {}): VersionSpec {
      const s = spec({
        mode: 'server',
        server: { inferencePath: '/infer', healthPath: '/healthz', startupTimeoutSeconds: over.startupTimeoutSeconds ?? 10 },
        env: over.env ?? {},
        ...(over.init ? { init: over.init } : {}),
      });
      s.runtime.command = fixtures.node(SERVER);
      return s;
    }

    function jobSpec(script: string, over: { output?: 'file' | 'lastStdoutLine'; env?: Record<string, string> } = {}): VersionSpec {
      return spec({ mode: 'job', job: { command: fixtures.node(script), output: over.output ?? 'file' }, env: over.env ?? {} });
    }

    function versionOf(s: VersionSpec): VersionRecord {
      return { id: VERSION_ID, tenantId: TENANT_ID, functionId: FUNCTION_ID, number: 1, spec: s, createdAt: Date.now() };
    }

    function taskOf(taskType: TaskType, input: unknown, over: Partial<TaskRecord> = {}): TaskRecord {
      const now = Date.now();
      const fields = { tenantId: TENANT_ID, functionId: FUNCTION_ID, versionId: VERSION_ID, taskType, input, priority: 0, maxAttempts: 1, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 3_600_000 };
      return { ...newTask(fields, now), status: 'RUNNING', startedAt: now, ...over };
    }

    /** Starts an instance; it is stopped in afterEach whatever the test does. */
    function start(s: VersionSpec, gpus: GpuAssignment[] = [], signal = controller().signal): Promise<RuntimeInstance> {
      const instanceId = newId('ins');
      const p = runtime
        .start(
          { instanceId, version: versionOf(s), gpus, workDir: join(dir, 'instances', instanceId), onLog: (_s, t) => (instanceLogs += t), onEvent: () => {} },
          signal,
        )
        .then((inst) => {
          instances.push(inst);
          return inst;
        });
      pending.push(p.catch(() => {}));
      return p;
    }

    interface Started {
      files: TaskFiles;
      abort: AbortController;
      logs: Array<{ stream: LogStream; text: string }>;
      result: Promise<RunResult>;
    }

    async function begin(inst: RuntimeInstance, task: TaskRecord, abort = controller()): Promise<Started> {
      const files = await taskDirs.acquire(task);
      const logs: Started['logs'] = [];
      const result = inst.run({ task, files, signal: abort.signal, onLog: (stream, text) => logs.push({ stream, text }) });
      pending.push(result);
      return { files, abort, logs, result };
    }

    async function exec(inst: RuntimeInstance, task: TaskRecord): Promise<{ result: RunResult; files: TaskFiles; logs: Started['logs'] }> {
      const s = await begin(inst, task);
      return { result: await within(s.result, 10_000, 'the run to end'), files: s.files, logs: s.logs };
    }

    async function readPid(file: string): Promise<number> {
      const path = join(dir, file);
      await waitFor(() => existsSync(path), 5000, `${file} to be written`);
      return Number(await readFile(path, 'utf8'));
    }

    /** Waits until none of `pids` runs; fails after `ms`. */
    async function gone(pids: number[], ms: number): Promise<void> {
      await waitFor(() => pids.every((p) => !fixtures.isRunning(p)), ms, `processes ${pids.join(', ')} to be gone`);
    }

    describe('server mode', () => {
      it('runs init once, starts the server with PORT and waits for its health path before resolving', async () => {
        const inst = await start(serverSpec({ init: fixtures.node(INIT), env: { HEALTHY_AFTER_MS: '300' } }));
        const first = await exec(inst, taskOf('query', { n: 1 }));
        expect(first.result.kind).toBe('ok');
        const out = valueOf(first.result);
        // Health answered 503 for the first 300 ms: start() must not have resolved before it turned 200.
        expect(out.healthy).toBe(true);
        expect(out.initSeen).toBe(true);
        expect(Number((out.env as Record<string, string>).PORT)).toBeGreaterThan(0);
        await exec(inst, taskOf('query', { n: 2 }));
        const initRuns = (await readFile(join(dir, 'init.log'), 'utf8')).trim().split('\n');
        expect(initRuns).toHaveLength(1);
      });

      it('POSTs the input JSON to the inference path with the Ferry headers and parses a JSON answer', async () => {
        const inst = await start(serverSpec());
        const input = { prompt: 'hello', list: [1, 2, 3], nested: { ok: true } };
        const task = taskOf('query', input, { attempt: 2 });
        const { result, files } = await exec(inst, task);
        expect(result).toMatchObject({ kind: 'ok', outputType: expect.stringContaining('json') });
        const out = valueOf(result);
        expect(out).toMatchObject({ method: 'POST', url: '/infer', headers: { taskId: task.id, attempt: '2' } });
        expect(JSON.parse(out.body as string)).toEqual(input);
        const headers = out.headers as Record<string, string>;
        expect(headers.contentType).toContain('json');
        expect(typeof headers.progressFile).toBe('string');
        expect(typeof headers.outputDir).toBe('string');
        // The paths in the headers are the task's files: what the server wrote there is on the node.
        expect(JSON.parse(await readFile(files.progressFile, 'utf8'))).toEqual({ progress: 50, message: 'half' });
        expect(await readFile(join(files.outputDir, 'from-server.txt'), 'utf8')).toBe('made by the server');
      });

      it('returns a text answer as text and a non-2xx answer as an error with its status', async () => {
        const inst = await start(serverSpec());
        expect((await exec(inst, taskOf('query', { text: 'plain answer' }))).result).toEqual({ kind: 'ok', output: 'plain answer', outputType: 'text/plain' });
        const bad = (await exec(inst, taskOf('query', { status: 422 }))).result;
        expect(bad).toMatchObject({ kind: 'error', error: { httpStatus: 422 } });
        expect((bad as { error: { code: string } }).error.code).toEqual(expect.any(String));
        // The instance still serves after an error.
        expect((await exec(inst, taskOf('query', { text: 'again' }))).result).toEqual({ kind: 'ok', output: 'again', outputType: 'text/plain' });
      });

      it('sets CUDA_VISIBLE_DEVICES to the assigned GPU indices, and to "" without GPUs', async () => {
        const two = await start(serverSpec(), [
          { index: 0, type: 'H200' },
          { index: 1, type: 'H200' },
        ]);
        const none = await start(serverSpec());
        const envOf = async (inst: RuntimeInstance): Promise<unknown> =>
          (valueOf((await exec(inst, taskOf('query', {}))).result).env as { CUDA_VISIBLE_DEVICES?: string }).CUDA_VISIBLE_DEVICES;
        expect(await envOf(two)).toBe('0,1');
        expect(await envOf(none)).toBe('');
      });

      it('rejects start() with the health path when the server never becomes healthy, and stops it', async () => {
        const s = serverSpec({ env: { SERVER_MODE: 'unhealthy' }, startupTimeoutSeconds: 1 });
        await expect(start(s)).rejects.toThrow(/\/healthz/);
        await gone([await readPid('server.pid')], 2000);
      });

      it('aborting start() rejects and stops the server it had started', async () => {
        const abort = controller();
        const starting = start(serverSpec({ env: { SERVER_MODE: 'unhealthy' } }), [], abort.signal);
        const pid = await readPid('server.pid');
        abort.abort();
        await expect(starting).rejects.toThrow(/cancel/);
        await gone([pid], 2000);
      });

      it('rejects start() with the exit code when the server exits at once', async () => {
        await expect(start(serverSpec({ env: { SERVER_MODE: 'exit' } }))).rejects.toThrow(/\b3\b/);
      });

      it('rejects start() when init fails, without starting the server', async () => {
        const s = serverSpec({ init: fixtures.node(INIT), env: { INIT_EXIT: '4' } });
        await expect(start(s)).rejects.toThrow(/init.*\b4\b/);
        expect(existsSync(join(dir, 'server.pid'))).toBe(false);
      });

      it('stop() kills the server and resolves exited', async () => {
        const inst = await start(serverSpec());
        const pid = await readPid('server.pid');
        expect(fixtures.isRunning(pid)).toBe(true);
        await within(inst.stop(1000), 5000, 'stop()');
        expect(fixtures.isRunning(pid)).toBe(false);
        expect(await within(inst.exited, 1000, 'exited')).toBe('stopped');
      });

      it('stop() kills a server that ignores SIGTERM after the grace period', async () => {
        const inst = await start(serverSpec({ env: { SERVER_MODE: 'stubborn' } }));
        const pid = await readPid('server.pid');
        await within(inst.stop(300), 3000, 'stop()');
        expect(fixtures.isRunning(pid)).toBe(false);
      });

      it('resolves exited with a reason when the server crashes on its own', async () => {
        const inst = await start(serverSpec());
        const pid = await readPid('server.pid');
        const { result } = await exec(inst, taskOf('query', { crash: true }));
        expect(result.kind).toBe('error');
        const reason = await within(inst.exited, 5000, 'exited');
        expect(reason).toMatch(/\b9\b/);
        await gone([pid], 2000);
      });

      it('aborting a query returns aborted promptly', async () => {
        const inst = await start(serverSpec());
        const run = await begin(inst, taskOf('query', { hang: true }));
        await waitFor(() => existsSync(join(dir, 'hang.received')), 5000, 'the server to get the request');
        run.abort.abort();
        expect(await within(run.result, 2000, 'the aborted query')).toEqual({ kind: 'aborted' });
      });

      it('a query whose signal is already aborted is not sent', async () => {
        const inst = await start(serverSpec());
        const abort = controller();
        abort.abort();
        const run = await begin(inst, taskOf('query', { hang: true }), abort);
        expect(await within(run.result, 2000, 'the pre-aborted query')).toEqual({ kind: 'aborted' });
        expect(existsSync(join(dir, 'hang.received'))).toBe(false);
      });
    });

    describe('job mode', () => {
      it('runs job.command with the task env, the input on stdin and in FERRY_INPUT_FILE', async () => {
        const saved = process.env.FERRY_TOKEN;
        process.env.FERRY_TOKEN = 'agent-secret';
        try {
          const inst = await start(jobSpec(JOB_ECHO), [{ index: 3, type: 'H200' }]);
          const input = { prompt: 'hi', n: [1, 2] };
          const task = taskOf('command', input, { attempt: 2 });
          const { result, files } = await exec(inst, task);
          expect(result.kind).toBe('ok');
          const out = (result as { output: { stdin: string; fileInput: string; env: Record<string, string | undefined> } }).output;
          expect(JSON.parse(out.stdin)).toEqual(input);
          expect(JSON.parse(out.fileInput)).toEqual(input);
          expect(out.env).toMatchObject({ FERRY_TASK_ID: task.id, FERRY_ATTEMPT: '2', CUDA_VISIBLE_DEVICES: '3' });
          for (const k of ['FERRY_INPUT_FILE', 'FERRY_OUTPUT_FILE', 'FERRY_OUTPUT_DIR', 'FERRY_PROGRESS_FILE']) expect(out.env[k]).toEqual(expect.any(String));
          // The agent's own credentials never reach the work.
          expect(out.env.FERRY_TOKEN).toBeUndefined();
          // What the job wrote through its env paths is in the task's files on the node.
          expect(JSON.parse(await readFile(files.progressFile, 'utf8'))).toEqual({ progress: 30, message: 'a third' });
          expect(await readFile(join(files.outputDir, 'artifact.txt'), 'utf8')).toBe('made by the job');
        } finally {
          if (saved === undefined) delete process.env.FERRY_TOKEN;
          else process.env.FERRY_TOKEN = saved;
        }
      });

      it('sets CUDA_VISIBLE_DEVICES to "" for a job without GPUs', async () => {
        const inst = await start(jobSpec(JOB_ECHO));
        const { result } = await exec(inst, taskOf('command', null));
        expect((result as { output: { env: Record<string, string> } }).output.env.CUDA_VISIBLE_DEVICES).toBe('');
      });

      it('reads the output file: JSON when it parses, else text, null when not written', async () => {
        const inst = await start(jobSpec(JOB_WRITE));
        expect((await exec(inst, taskOf('command', { write: '{"a":[1,2]}' }))).result).toEqual({ kind: 'ok', output: { a: [1, 2] } });
        expect((await exec(inst, taskOf('command', { write: 'plain words' }))).result).toEqual({ kind: 'ok', output: 'plain words' });
        expect((await exec(inst, taskOf('command', {}))).result).toEqual({ kind: 'ok', output: null });
      });

      it("uses the last stdout line with output: 'lastStdoutLine'", async () => {
        const inst = await start(jobSpec(JOB_PRINT, { output: 'lastStdoutLine' }));
        expect((await exec(inst, taskOf('command', { lines: ['step 1', '{"answer":42}'] }))).result).toEqual({ kind: 'ok', output: { answer: 42 } });
        expect((await exec(inst, taskOf('command', { lines: ['step 1', 'all done'], noNewline: true }))).result).toEqual({ kind: 'ok', output: 'all done' });
      });

      it('returns EXIT_CODE with the exit code on a non-zero exit, and passes stdout and stderr to onLog', async () => {
        const inst = await start(jobSpec(JOB_FAIL));
        const { result, logs } = await exec(inst, taskOf('command', {}));
        expect(result).toMatchObject({ kind: 'error', error: { code: 'EXIT_CODE', exitCode: 7 } });
        const text = (stream: LogStream): string => logs.filter((l) => l.stream === stream).map((l) => l.text).join('');
        expect(text('stdout')).toContain('to stdout');
        expect(text('stderr')).toContain('to stderr');
      });

      it('never puts the payload on argv: shell metacharacters in the input run nothing', async () => {
        const pwned = join(dir, `pwned-${randomBytes(6).toString('hex')}`);
        const input = { prompt: `"; touch ${pwned}; echo "`, more: `$(touch ${pwned}) \`touch ${pwned}\` | touch ${pwned} && touch ${pwned}` };
        const inst = await start(jobSpec(JOB_ECHO));
        const { result } = await exec(inst, taskOf('command', input));
        expect(result.kind).toBe('ok');
        const out = (result as { output: { stdin: string; argv: string[] } }).output;
        expect(JSON.parse(out.stdin)).toEqual(input);
        expect(out.argv.join(' ')).not.toContain('pwned');
        expect(existsSync(pwned)).toBe(false);
      });

      it('aborting a job stops it and the child it started, and returns aborted', async () => {
        const inst = await start(jobSpec(JOB_WITH_CHILD));
        const run = await begin(inst, taskOf('command', {}));
        const pids = [await readPid('job.pid'), await readPid('child.pid')];
        expect(pids.every((p) => fixtures.isRunning(p))).toBe(true);
        run.abort.abort();
        expect(await within(run.result, 2000, 'the aborted job')).toEqual({ kind: 'aborted' });
        await gone(pids, 2000);
      });

      it('kills a job that ignores SIGTERM after stopGraceSeconds', async () => {
        const inst = await start(jobSpec(JOB_WITH_CHILD, { env: { IGNORE_TERM: '1' } }));
        const run = await begin(inst, taskOf('command', {}));
        const pids = [await readPid('job.pid'), await readPid('child.pid')];
        const t0 = Date.now();
        run.abort.abort();
        await new Promise((r) => setTimeout(r, 300));
        // Both still run during the grace period...
        expect(pids.every((p) => fixtures.isRunning(p))).toBe(true);
        // ...and are killed once it is over (stopGraceSeconds: 1).
        expect(await within(run.result, 3000, 'the stubborn job')).toEqual({ kind: 'aborted' });
        expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
        await gone(pids, Math.max(0, t0 + 2000 - Date.now()));
      });

      it('ends a job whose leader exits while a child it left still holds its output, and stops that child', async () => {
        const inst = await start(jobSpec(JOB_LEAVES_CHILD));
        const run = await begin(inst, taskOf('command', {}));
        const child = await readPid('child.pid');
        expect(await within(run.result, 3000, 'the job whose leader exited')).toEqual({ kind: 'ok', output: 'finished' });
        await gone([child], 2000);
      });

      it('a runtime started after a crash reaps the work its predecessor left running', async () => {
        const inst = await start(jobSpec(JOB_WITH_CHILD));
        const run = await begin(inst, taskOf('command', {}));
        const pids = [await readPid('job.pid'), await readPid('child.pid')];
        // The first runtime "dies" without stopping anything; its successor shares the state dir.
        const successor = makeRuntime(join(dir, 'state'));
        expect(await successor.reapLeftovers()).toBe(1);
        await gone(pids, 2000);
        expect((await within(run.result, 2000, 'the reaped job')).kind).toBe('error');
        expect(await successor.reapLeftovers()).toBe(0);
      });

      it('a job whose signal is already aborted does not run', async () => {
        const inst = await start(jobSpec(JOB_MARK_AND_WAIT));
        const abort = controller();
        abort.abort();
        const run = await begin(inst, taskOf('command', {}), abort);
        expect(await within(run.result, 2000, 'the pre-aborted job')).toEqual({ kind: 'aborted' });
        expect(existsSync(join(dir, 'ran'))).toBe(false);
      });
    });
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A server's answer as a task shows it: a JSON answer's value, other text as is (core/outputs.ts). */
function valueOf(result: RunResult): Record<string, unknown> {
  const ok = result as Extract<RunResult, { kind: 'ok' }>;
  return outputValue({ output: ok.output, outputType: ok.outputType ?? null }) as Record<string, unknown>;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
