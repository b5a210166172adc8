import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../../../core/clock.js';
import { LIMITS } from '../../../core/limits.js';
import type { VersionSpec } from '../../../core/types.js';
import { parseOutput, readOutputFile, taskEnv, taskHeaders, tooLarge } from '../../task-files.js';
import type { InstanceContext, RunResult, Runtime, RuntimeInstance, TaskContext } from '../runtime.js';
import { PidRegistry } from './pid-registry.js';
import { ProcessGroup } from './process-group.js';

/** How often a starting server's health path is tried: a refused connect costs next to nothing. */
const HEALTH_POLL_MS = 20;

/** Env names the agent never hands to functions. */
/** Secrets of Ferry itself: API keys, node tokens, the store URL (it may hold a password). */
const PRIVATE_ENV = ['FERRY_TOKEN', 'FERRY_ADMIN_KEY', 'FERRY_NODE_TOKEN', 'FERRY_STORE'];

/** Runs versions as processes on the node itself, each instance in its own process group. */
export class ProcessRuntime implements Runtime {
  readonly type = 'process' as const;
  private readonly registry: PidRegistry;

  /** `stateDir` holds what this runtime must find again after a crash of its agent. */
  constructor(stateDir: string) {
    this.registry = new PidRegistry(join(stateDir, 'process-groups'));
  }

  async reapLeftovers(): Promise<number> {
    return this.registry.reap();
  }

  async start(ctx: InstanceContext, signal: AbortSignal): Promise<RuntimeInstance> {
    await mkdir(ctx.workDir, { recursive: true });
    const spec = ctx.version.spec;
    const env = instanceEnv(ctx);
    const cwd = spec.runtime.cwd ?? ctx.workDir;
    const startupMs = (spec.server?.startupTimeoutSeconds ?? 600) * 1000;
    if (spec.init) {
      const tail = new OutputTail();
      const init = new ProcessGroup(spec.init, { cwd, env, registry: this.registry, onOutput: (s, t) => (tail.add(t), ctx.onLog(s, t)) });
      init.writeStdin('');
      const timer = setTimeout(() => void init.terminate(1000), startupMs);
      const stop = (): void => void init.terminate(1000);
      signal.addEventListener('abort', stop, { once: true });
      const { code, signal: sig } = await init.closed;
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      if (code !== 0) throw new Error(`init ${describeExit(code, sig)}${tail.text()}`);
    }
    const instance = new ProcessInstance(ctx, env, cwd, this.registry);
    if (spec.server && spec.runtime.command?.length) {
      try {
        await instance.startServer(spec, startupMs, signal);
      } catch (err) {
        // Cancelled, exited or never healthy: nothing it started outlives the failed start.
        await instance.stop(spec.stopGraceSeconds * 1000);
        throw err;
      }
    }
    return instance;
  }
}

class ProcessInstance implements RuntimeInstance {
  readonly exited: Promise<string>;
  private resolveExited!: (reason: string) => void;
  private server: ProcessGroup | null = null;
  private port = 0;
  private agent: http.Agent | null = null;
  private stopping = false;
  private readonly tail = new OutputTail();

  constructor(
    private readonly ctx: InstanceContext,
    private readonly env: Record<string, string | undefined>,
    private readonly cwd: string,
    private readonly registry: PidRegistry,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  async startServer(spec: VersionSpec, startupMs: number, signal: AbortSignal): Promise<void> {
    this.port = await freePort();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, this.ctx.version.spec.concurrency) });
    const server = new ProcessGroup(spec.runtime.command!, {
      cwd: this.cwd,
      registry: this.registry,
      env: { ...this.env, PORT: String(this.port) },
      onOutput: (s, t) => (this.tail.add(t), this.ctx.onLog(s, t)),
    });
    this.server = server;
    server.writeStdin('');
    void server.closed.then(({ code, signal: sig }) => {
      if (!this.stopping) this.resolveExited(`server ${describeExit(code, sig)}${this.tail.text()}`);
    });
    const deadline = Date.now() + startupMs;
    const healthPath = spec.server!.healthPath;
    while (Date.now() < deadline) {
      if (signal.aborted) throw new Error('start cancelled');
      if (!server.running) {
        const { code, signal: sig } = await server.closed;
        throw new Error(`server ${describeExit(code, sig)} before it became healthy${this.tail.text()}`);
      }
      if ((await this.probe(healthPath, 1000)) === 200) return;
      await sleep(HEALTH_POLL_MS, signal);
    }
    throw new Error(`server did not answer 200 on ${healthPath} within ${startupMs / 1000} s${this.tail.text()}`);
  }

  run(ctx: TaskContext): Promise<RunResult> {
    // Stopped before it began (a cancel that came while its files were prepared): start nothing,
    // since an abort listener added now would never fire.
    if (ctx.signal.aborted) return Promise.resolve({ kind: 'aborted' });
    return ctx.task.taskType === 'query' ? this.runQuery(ctx) : this.runCommand(ctx);
  }

  private async runCommand(ctx: TaskContext): Promise<RunResult> {
    const spec = this.ctx.version.spec;
    const job = spec.job!;
    let lastLine = '';
    let partial = '';
    const group = new ProcessGroup(job.command, {
      cwd: this.cwd,
      registry: this.registry,
      env: { ...this.env, ...taskEnv(ctx.task, ctx.files) },
      onOutput: (stream, text) => {
        if (stream === 'stdout' && job.output === 'lastStdoutLine') {
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          const last = lines.reverse().find((l) => l.trim() !== '');
          if (last !== undefined) lastLine = last;
        }
        ctx.onLog(stream, text);
      },
    });
    group.writeStdin(JSON.stringify(ctx.task.input ?? null));
    const stop = (): void => void group.terminate(spec.stopGraceSeconds * 1000);
    ctx.signal.addEventListener('abort', stop, { once: true });
    const { code, signal } = await group.closed;
    ctx.signal.removeEventListener('abort', stop);
    if (ctx.signal.aborted) return { kind: 'aborted' };
    if (code !== 0) return { kind: 'error', error: { code: 'EXIT_CODE', message: `command ${describeExit(code, signal)}`, ...(code !== null ? { exitCode: code } : {}) } };
    if (job.output === 'lastStdoutLine') {
      const line = partial.trim() !== '' ? partial : lastLine;
      if (Buffer.byteLength(line) > LIMITS.maxInlineOutputBytes) return { kind: 'error', error: tooLarge(Buffer.byteLength(line)) };
      return { kind: 'ok', output: line === '' ? null : parseOutput(line) };
    }
    const out = await readOutputFile(ctx.files.outputFile);
    return 'error' in out ? { kind: 'error', error: out.error } : { kind: 'ok', output: out.output };
  }

  private runQuery(ctx: TaskContext): Promise<RunResult> {
    const server = this.ctx.version.spec.server!;
    const body = JSON.stringify(ctx.task.input ?? null);
    return new Promise<RunResult>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: server.inferencePath,
          method: 'POST',
          agent: this.agent!,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...taskHeaders(ctx.task, ctx.files) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > LIMITS.maxInlineOutputBytes) {
              res.destroy();
              resolve({ kind: 'error', error: tooLarge(size) });
            } else chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              const json = (res.headers['content-type'] ?? '').includes('json');
              resolve({ kind: 'ok', output: text === '' ? null : json ? parseOutput(text) : text });
            } else {
              resolve({ kind: 'error', error: { code: 'HTTP_STATUS', httpStatus: status, message: `function answered ${status}: ${text.slice(0, 2000)}` } });
            }
          });
          res.on('error', () => resolve(ctx.signal.aborted ? { kind: 'aborted' } : { kind: 'error', error: { code: 'CONNECTION', message: 'the function closed the response early' } }));
        },
      );
      const abort = (): void => {
        req.destroy();
        resolve({ kind: 'aborted' });
        void this.freeAfterAbort();
      };
      ctx.signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => ctx.signal.removeEventListener('abort', abort));
      req.on('error', (err) => resolve(ctx.signal.aborted ? { kind: 'aborted' } : { kind: 'error', error: { code: 'CONNECTION', message: `cannot reach the function: ${err.message}` } }));
      req.end(body);
    });
  }

  /**
   * After an aborted request the server may still be busy with it. If it does not answer its
   * health path within the grace period, it is restarted (stopped here; the control plane
   * replaces it) so the GPU is freed.
   */
  private async freeAfterAbort(): Promise<void> {
    const spec = this.ctx.version.spec;
    if ((await this.probe(spec.server!.healthPath, spec.stopGraceSeconds * 1000)) === 200) return;
    this.resolveExited('restarted: it did not free itself after a cancelled or timed-out request');
    await this.stop(1000);
  }

  private probe(path: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path, timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.agent?.destroy();
    await this.server?.terminate(graceMs);
    this.resolveExited('stopped');
  }
}

function instanceEnv(ctx: InstanceContext): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of PRIVATE_ENV) delete env[k];
  const devices = ctx.gpus.map((g) => String(g.index)).join(',');
  return {
    ...env,
    ...ctx.version.spec.runtime.env,
    // No GPU asked for means none visible, so a CPU function cannot grab one by accident.
    CUDA_VISIBLE_DEVICES: devices,
    FERRY_INSTANCE_ID: ctx.instanceId,
    FERRY_FUNCTION_ID: ctx.version.functionId,
    FERRY_VERSION_ID: ctx.version.id,
  };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** The last few KiB of an instance's output, quoted in failure reasons. */
class OutputTail {
  private buf = '';
  add(text: string): void {
    this.buf = (this.buf + text).slice(-2000);
  }
  text(): string {
    const t = this.buf.trim();
    return t === '' ? '' : `; last output: ${t.slice(-500)}`;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

