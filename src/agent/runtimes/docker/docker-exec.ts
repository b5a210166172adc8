import { readFileSync, readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { sleep } from '../../../core/clock.js';
import type { LogStream } from '../runtime.js';

export interface ExecRequest {
  cmd: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Written to the command's stdin, which is then closed; none leaves stdin closed. */
  stdin?: string;
  onOutput(stream: LogStream, text: string): void;
  /**
   * Host pids of what the command left behind once it exited (orphans the container's init
   * adopted), stopped so that a job ends when its own process does.
   */
  leftovers(): number[];
}

export type ExecEnd = { exitCode: number | null; stopped: boolean };

/** How often a running command's process is checked: one kill(pid, 0) and one small read. */
const WATCH_MS = 50;
/** How long output may still arrive after the command's process exited. */
const DRAIN_MS = 100;

/** A command started in a container, whose output flows to `onOutput` until it ends. */
export interface StartedExec {
  /** The command's process on the host (0 when it ended before the engine reported it). */
  pid: number;
  /** Resolves when its output ends (its process and whatever held its output exited). */
  outputEnded: Promise<void>;
  readonly outputOpen: boolean;
  /** Stops waiting for output that something else still holds. */
  detach(): void;
  exitCode(): Promise<number | null>;
}

/** Starts a command in a running container, streaming its output; see `runExec` to wait for it. */
export async function startExec(container: Docker.Container, req: Omit<ExecRequest, 'leftovers'>): Promise<StartedExec> {
  const exec = await container.exec({
    Cmd: req.cmd,
    Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: req.cwd,
    AttachStdin: req.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: req.stdin !== undefined });
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (c: Buffer) => req.onOutput('stdout', c.toString('utf8')));
  err.on('data', (c: Buffer) => req.onOutput('stderr', c.toString('utf8')));
  container.modem.demuxStream(stream, out, err);
  let open = true;
  const outputEnded = new Promise<void>((resolve) => {
    const done = (): void => {
      open = false;
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
  if (req.stdin !== undefined) stream.end(req.stdin);
  return {
    pid: await hostPid(exec),
    outputEnded,
    get outputOpen() {
      return open;
    },
    detach: () => stream.destroy(),
    exitCode: () => exitCodeOf(exec),
  };
}

/**
 * Runs one command in a running container (a job task, an instance's `init`) and waits for it.
 * When `signal` aborts, the command and everything it started get SIGTERM, then SIGKILL after
 * `graceMs`. The Engine API cannot signal an exec, so the agent signals its processes on the host,
 * where the engine runs them (the agent and a local engine share the host's process table);
 * `stopped: false` after an abort means they outlived that and the container must go. A command
 * that exits while a child it left still holds its output ends too, and that child is stopped.
 */
export async function runExec(container: Docker.Container, req: ExecRequest, signal: AbortSignal, graceMs: number): Promise<ExecEnd> {
  const run = await startExec(container, req);
  let stopped = true;
  const stop = (): void => {
    void killTree(run.pid, graceMs)
      .then((ok) => {
        stopped = ok;
        // Whatever is left of the output ends with the processes; if they outlived SIGKILL, stop waiting.
        if (!ok) run.detach();
      })
      .catch(() => run.detach());
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  while (run.outputOpen && alive(run.pid)) await Promise.race([run.outputEnded, sleep(WATCH_MS)]);
  if (run.outputOpen) {
    await Promise.race([run.outputEnded, sleep(DRAIN_MS)]);
    if (run.outputOpen) {
      await killAll(req.leftovers(), graceMs);
      run.detach();
    }
  }
  signal.removeEventListener('abort', stop);
  return { exitCode: await run.exitCode(), stopped };
}

/**
 * An exec's exit code once the engine has recorded its end. Its output can close, and its process
 * be gone, a moment before that (under load, tens of ms): until then it still reads as running
 * with no code, which would pass for a kill by a signal.
 */
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let i = 0; ; i++) {
    const { Running, ExitCode } = await exec.inspect();
    if (!Running || i >= 200) return ExitCode ?? null;
    await sleep(10);
  }
}

/** The host pid of a started exec; the engine reports it once the process runs. */
async function hostPid(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const { Pid, Running, ExitCode } = await exec.inspect();
    if (Pid) return Pid;
    if (!Running && ExitCode !== null) return 0;
    await sleep(10);
  }
  return 0;
}

/** SIGTERM to every pid, SIGKILL to what is left after `graceMs`; true when all are gone. */
async function killAll(pids: number[], graceMs: number): Promise<boolean> {
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(alive)) await sleep(20);
  const left = pids.filter(alive);
  signalAll(left, 'SIGKILL');
  const killDeadline = Date.now() + 2_000;
  while (Date.now() < killDeadline && left.some(alive)) await sleep(20);
  return !left.some(alive);
}

/** SIGTERM to `pid` and its descendants, SIGKILL to what is left after `graceMs`; true when all are gone. */
async function killTree(pid: number, graceMs: number): Promise<boolean> {
  if (!pid) return false;
  return killAll([pid, ...descendants(pid)], graceMs);
}

function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // Already gone.
    }
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is gone for every purpose here; the container's init reaps it.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every process under `pid` on this host, read from /proc. */
export function descendants(pid: number): number[] {
  const children = processTree();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** The direct children of each process on this host, by parent pid. */
export function processTree(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  return children;
}
