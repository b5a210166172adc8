import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { sleep } from '../../../core/clock.js';
import { taskError } from '../../../core/task-errors.js';
import type { VersionSpec } from '../../../core/types.js';
import { taskEnv } from '../../task-files.js';
import { JobOutput } from '../job-output.js';
import { type RunTarget, dispatchRun } from '../run-dispatch.js';
import type { InstanceContext, LogStream, RunResult, Runtime, RuntimeInstance, TaskContext } from '../runtime.js';
import { OutputTail, ServerClient, freePort } from '../server-client.js';
import { descendants, processTree, runExec, startExec } from './docker-exec.js';
import { ensureImage } from './docker-images.js';

/** Labels on every container this runtime creates, to find them again after a crash. */
const OWNER_LABEL = 'io.ferry.owner';
const INSTANCE_LABEL = 'io.ferry.instance';
/**
 * The main process of a container whose work runs as execs (job mode, or a server with `init`,
 * which must run before the server): it waits to be stopped. It needs `sh` and `sleep` in the image.
 */
const KEEPER = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'];

export interface DockerRuntimeOptions {
  /** The node's work directory: mounted into every container at the same path, so task files are shared. */
  stateDir: string;
  /** The engine, as in DOCKER_HOST: `unix:///path` (default /var/run/docker.sock) or `tcp://host:port`. */
  host?: string;
  /**
   * `nvidia`: the node's GPUs are real and passed to containers as device requests; `declared`:
   * they exist only in the inventory (`--gpus`), so containers only get the environment.
   */
  gpus: 'nvidia' | 'declared';
  /** More host paths mounted at the same path in every container (model caches, shared data). */
  mounts?: string[];
}

/** The engine client options for a DOCKER_HOST value. */
export function dockerConnection(host: string | undefined): Docker.DockerOptions {
  if (!host || host.startsWith('unix://')) return { socketPath: host ? host.slice('unix://'.length) : '/var/run/docker.sock' };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}

/**
 * Runs versions as containers on the node's Docker Engine, with the same behaviour as the process
 * runtime: one container per instance on the host network; server mode talks to the image's
 * server on 127.0.0.1:PORT, job mode runs each task as an exec in the instance's container. The
 * engine client (dockerode) is loaded on first use, so nodes without Docker never load it.
 */
export class DockerRuntime implements Runtime {
  readonly type = 'docker' as const;
  private docker: Promise<Docker> | null = null;
  /** Labels this runtime's containers: the same work directory after a restart finds them again. */
  private readonly owner: string;

  constructor(private readonly options: DockerRuntimeOptions) {
    this.owner = createHash('sha256').update(options.stateDir).digest('hex').slice(0, 16);
  }

  private client(): Promise<Docker> {
    this.docker ??= import('dockerode').then(({ default: DockerClient }) => new DockerClient(dockerConnection(this.options.host)));
    return this.docker;
  }

  /** The engine's version; throws when it does not answer. */
  async engineVersion(): Promise<string> {
    return (await (await this.client()).version()).Version;
  }

  async reapLeftovers(): Promise<number> {
    const docker = await this.client();
    const left = await docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${this.owner}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    return left.length;
  }

  async start(ctx: InstanceContext, signal: AbortSignal): Promise<RuntimeInstance> {
    const docker = await this.client();
    const spec = ctx.version.spec;
    await mkdir(ctx.workDir, { recursive: true });
    await ensureImage(docker, spec.runtime.image!, spec.runtime.pullPolicy ?? 'IfNotPresent', (line) => ctx.onEvent(line), signal);
    const port = spec.server ? await freePort() : 0;
    const passThrough = this.options.gpus === 'nvidia' && ctx.gpus.length > 0;
    if (ctx.gpus.length > 0 && !passThrough) {
      ctx.onEvent(`GPUs ${ctx.gpus.map((g) => g.index).join(',')} are declared, not discovered: the container gets CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES only, no devices`);
    }
    // A server without `init` is the container's own main process, as the image means it to run.
    const serverIsMain = spec.server !== undefined && !spec.init;
    const serverCommand = spec.server && !serverIsMain ? (spec.runtime.command ?? (await imageCommand(docker, spec.runtime.image!))) : null;
    const container = await docker.createContainer({
      name: `ferry-${ctx.instanceId}`,
      Image: spec.runtime.image!,
      ...(serverIsMain ? { Cmd: spec.runtime.command } : { Entrypoint: KEEPER, Cmd: [] }),
      Env: Object.entries(containerEnv(ctx, port, passThrough)).map(([k, v]) => `${k}=${v}`),
      WorkingDir: spec.runtime.cwd,
      Labels: { [OWNER_LABEL]: this.owner, [INSTANCE_LABEL]: ctx.instanceId },
      HostConfig: {
        NetworkMode: 'host',
        // docker-init as PID 1: it forwards the stop signal and reaps what tasks leave behind.
        Init: true,
        Binds: [this.options.stateDir, ...(this.options.mounts ?? [])].map((p) => `${p}:${p}`),
        ...(spec.resources.cpus ? { NanoCpus: Math.round(spec.resources.cpus * 1e9) } : {}),
        ...(spec.resources.memoryMiB ? { Memory: spec.resources.memoryMiB * 1024 * 1024 } : {}),
        ...(passThrough ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ctx.gpus.map((g) => String(g.index)), Capabilities: [['gpu']] }] } : {}),
      },
    });
    const instance = new DockerInstance(ctx, container, port);
    try {
      await container.start();
      await instance.begin(serverCommand, signal);
    } catch (err) {
      // Cancelled, failed init, exited or never healthy: the container goes with the failed start.
      await instance.stop(spec.stopGraceSeconds * 1000);
      throw err;
    }
    return instance;
  }
}

/** What the image runs when nothing overrides it: its entrypoint and command. */
async function imageCommand(docker: Docker, image: string): Promise<string[]> {
  const { Config } = await docker.getImage(image).inspect();
  const cmd = [...(Config.Entrypoint ?? []), ...(Config.Cmd ?? [])];
  if (cmd.length === 0) throw new Error(`image ${image} names no command to start its server: set runtime.command`);
  return cmd;
}

/**
 * The environment of an instance's container: the version's own, the contract's ids and the
 * GPUs. Nothing of the agent's environment goes in. With devices passed through, the container
 * sees its GPUs renumbered from 0; with declared ones it sees the node's indices, as a process would.
 */
function containerEnv(ctx: InstanceContext, port: number, passThrough: boolean): Record<string, string> {
  const indices = ctx.gpus.map((g) => String(g.index));
  const visible = passThrough ? indices.map((_, i) => String(i)) : indices;
  return {
    ...ctx.version.spec.runtime.env,
    CUDA_VISIBLE_DEVICES: visible.join(','),
    NVIDIA_VISIBLE_DEVICES: indices.length > 0 ? indices.join(',') : 'void',
    FERRY_INSTANCE_ID: ctx.instanceId,
    FERRY_FUNCTION_ID: ctx.version.functionId,
    FERRY_VERSION_ID: ctx.version.id,
    ...(port ? { PORT: String(port) } : {}),
  };
}

class DockerInstance implements RuntimeInstance, RunTarget {
  readonly exited: Promise<string>;
  private resolveExited!: (reason: string) => void;
  readonly client: ServerClient | null;
  private readonly tail = new OutputTail();
  private ended: string | null = null;
  private stopping = false;
  /** The container's init on the host, and its first child (the main process): orphans are its other children. */
  private initPid = 0;
  private mainPid = 0;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly container: Docker.Container,
    port: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.client = port ? new ServerClient(port, ctx.version.spec.concurrency) : null;
  }

  get spec(): VersionSpec {
    return this.ctx.version.spec;
  }

  /**
   * Follows the container's output and its end, runs `init` once, starts the server when it is
   * not the main process (`serverCommand`), and waits for a server's health.
   */
  async begin(serverCommand: string[] | null, signal: AbortSignal): Promise<void> {
    const logs = await this.container.logs({ follow: true, stdout: true, stderr: true });
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (c: Buffer) => this.log('stdout', c.toString('utf8')));
    err.on('data', (c: Buffer) => this.log('stderr', c.toString('utf8')));
    this.container.modem.demuxStream(logs, out, err);
    void this.container.wait().then(
      (r: { StatusCode?: number }) => this.end(`container exited with code ${r.StatusCode ?? 'unknown'}`),
      () => this.end('container is gone'),
    );
    this.initPid = (await this.container.inspect()).State.Pid;
    for (let i = 0; i < 100 && !this.mainPid && this.ended === null; i++) {
      this.mainPid = processTree().get(this.initPid)?.[0] ?? 0;
      if (!this.mainPid) await sleep(10);
    }
    const cwd = this.spec.runtime.cwd;
    if (this.spec.init) {
      const init = { cmd: this.spec.init, env: {}, cwd, stdin: '', onOutput: (s: LogStream, t: string) => this.log(s, t), leftovers: () => this.leftovers() };
      const { exitCode } = await runExec(this.container, init, signal, 1000);
      if (signal.aborted) throw new Error('start cancelled');
      if (exitCode !== 0) throw new Error(`init exited with code ${exitCode}${this.tail.text()}`);
    }
    if (serverCommand) {
      const server = await startExec(this.container, { cmd: serverCommand, env: {}, cwd, stdin: '', onOutput: (s, t) => this.log(s, t) });
      void server.outputEnded.then(async () => this.end(`server exited with code ${await server.exitCode().catch(() => 'unknown')}`));
    }
    if (this.client) {
      const startupMs = this.spec.server!.startupTimeoutSeconds * 1000;
      try {
        await this.client.waitHealthy(this.spec.server!.healthPath, startupMs, async () => this.ended, signal);
      } catch (e) {
        throw new Error(`${(e as Error).message}${this.tail.text()}`);
      }
    }
  }

  /** What exited execs left behind: children of the container's init other than its main process, with theirs. */
  private leftovers(): number[] {
    const orphans = (processTree().get(this.initPid) ?? []).filter((p) => p !== this.mainPid);
    return [...orphans, ...orphans.flatMap(descendants)];
  }

  private log(stream: 'stdout' | 'stderr', text: string): void {
    this.tail.add(text);
    this.ctx.onLog(stream, text);
  }

  private end(reason: string): void {
    this.ended ??= reason;
    if (!this.stopping) this.resolveExited(`${reason}${this.tail.text()}`);
  }

  run(ctx: TaskContext): Promise<RunResult> {
    return dispatchRun(this, ctx);
  }

  async runCommand(ctx: TaskContext): Promise<RunResult> {
    const job = this.spec.job!;
    const output = new JobOutput(ctx, job);
    let end;
    try {
      end = await runExec(
        this.container,
        {
          cmd: job.command,
          env: taskEnv(ctx.task, ctx.files),
          cwd: this.spec.runtime.cwd,
          stdin: JSON.stringify(ctx.task.input ?? null),
          onOutput: output.onOutput,
          leftovers: () => this.leftovers(),
        },
        ctx.signal,
        this.spec.stopGraceSeconds * 1000,
      );
    } catch (err) {
      if (ctx.signal.aborted) return { kind: 'aborted' };
      return { kind: 'error', error: taskError('EXEC_FAILED', `could not run the command in the container: ${(err as Error).message}`) };
    }
    // It outlived SIGKILL (or its processes were out of reach): the container is restarted.
    if (ctx.signal.aborted && !end.stopped) void this.restart('restarted: a stopped task did not end');
    // An exec's end tells only its exit code, never a signal.
    return output.result({ code: end.exitCode, signal: null });
  }

  async restart(reason: string): Promise<void> {
    this.resolveExited(reason);
    await this.stop(1000);
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.client?.close();
    // The engine sends the stop signal, then SIGKILL after the grace period; removal frees the name.
    await this.container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) }).catch(() => {});
    await this.container.remove({ force: true }).catch(() => {});
    this.resolveExited('stopped');
  }
}
