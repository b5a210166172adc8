import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VersionSpec } from '../../../core/types.js';
import { taskEnv } from '../../task-files.js';
import { JobOutput, describeExit } from '../job-output.js';
import { type RunTarget, dispatchRun } from '../run-dispatch.js';
import type { InstanceContext, RunResult, Runtime, RuntimeInstance, TaskContext } from '../runtime.js';
import { OutputTail, ServerClient, freePort } from '../server-client.js';
import { PidRegistry } from './pid-registry.js';
import { ProcessGroup } from './process-group.js';

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

class ProcessInstance implements RuntimeInstance, RunTarget {
  readonly exited: Promise<string>;
  private resolveExited!: (reason: string) => void;
  private server: ProcessGroup | null = null;
  client: ServerClient | null = null;
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

  get spec(): VersionSpec {
    return this.ctx.version.spec;
  }

  async startServer(spec: VersionSpec, startupMs: number, signal: AbortSignal): Promise<void> {
    const client = new ServerClient(await freePort(), spec.concurrency);
    this.client = client;
    const server = new ProcessGroup(spec.runtime.command!, {
      cwd: this.cwd,
      registry: this.registry,
      env: { ...this.env, PORT: String(client.port) },
      onOutput: (s, t) => (this.tail.add(t), this.ctx.onLog(s, t)),
    });
    this.server = server;
    server.writeStdin('');
    void server.closed.then(({ code, signal: sig }) => {
      if (!this.stopping) this.resolveExited(`server ${describeExit(code, sig)}${this.tail.text()}`);
    });
    const gone = async (): Promise<string | null> => {
      if (server.running) return null;
      const { code, signal: sig } = await server.closed;
      return describeExit(code, sig);
    };
    try {
      await client.waitHealthy(spec.server!.healthPath, startupMs, gone, signal);
    } catch (err) {
      throw new Error(`${(err as Error).message}${this.tail.text()}`);
    }
  }

  run(ctx: TaskContext): Promise<RunResult> {
    return dispatchRun(this, ctx);
  }

  async runCommand(ctx: TaskContext): Promise<RunResult> {
    const job = this.spec.job!;
    const output = new JobOutput(ctx, job);
    const group = new ProcessGroup(job.command, {
      cwd: this.cwd,
      registry: this.registry,
      env: { ...this.env, ...taskEnv(ctx.task, ctx.files) },
      onOutput: output.onOutput,
    });
    group.writeStdin(JSON.stringify(ctx.task.input ?? null));
    const stop = (): void => void group.terminate(this.spec.stopGraceSeconds * 1000);
    ctx.signal.addEventListener('abort', stop, { once: true });
    const exit = await group.closed;
    ctx.signal.removeEventListener('abort', stop);
    return output.result(exit);
  }

  async restart(reason: string): Promise<void> {
    this.resolveExited(reason);
    await this.stop(1000);
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.client?.close();
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
