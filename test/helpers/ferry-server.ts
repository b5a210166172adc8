import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FerryClient } from '../../src/sdk/client.js';
import { kill9, stopChild } from './child.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Short timers so fault tests run in seconds (STYLE.md 11). */
export const FAST_TIMERS: Record<string, string> = {
  FERRY_LEASE_MS: '3000',
  FERRY_HEARTBEAT_MS: '500',
  FERRY_REAPER_INTERVAL_MS: '200',
  FERRY_RECONCILE_INTERVAL_MS: '300',
  FERRY_RETRY_BASE_MS: '100',
  FERRY_RESTART_BASE_MS: '100',
  FERRY_CLAIM_WAIT_MS: '1000',
  FERRY_AGENT_SYNC_MS: '500',
  FERRY_LOG_FLUSH_MS: '50',
  FERRY_PROGRESS_POLL_MS: '50',
};

/**
 * A real `ferry server` in a child process on a free port, with its own data directory. It can
 * be SIGKILLed and started again on the same data directory.
 */
export class FerryServer {
  readonly dataDir: string;
  url = '';
  adminKey = '';
  private child: ChildProcess | null = null;
  private output = '';

  constructor(
    private readonly args: string[] = ['--gpus', 'none'],
    private readonly env: Record<string, string> = {},
    /** What node runs in place of bin/ferry.js: a fixture that composes the server otherwise, taking the same argv. */
    private readonly entry: string[] = [join(ROOT, 'bin', 'ferry.js')],
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  }

  get client(): FerryClient {
    return new FerryClient(this.url, this.adminKey);
  }

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<this> {
    const child = spawn(process.execPath, [...this.entry, '--data-dir', this.dataDir, 'server', '--port', '0', ...this.args], {
      env: { ...process.env, ...FAST_TIMERS, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    this.url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}${this.output}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}: ${out}${this.output}`));
      });
    });
    // Only the replica that created the store has the key; others are given it.
    const keyFile = join(this.dataDir, 'admin.key');
    if (existsSync(keyFile)) this.adminKey = readFileSync(keyFile, 'utf8').trim();
    return this;
  }

  /** Runs the `ferry` CLI against this server; resolves with its exit code and output. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolveRun) => {
      execFile(process.execPath, [join(ROOT, 'bin', 'ferry.js'), '--url', this.url, '--token', this.adminKey, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolveRun({ code, stdout, stderr });
      });
    });
  }

  /** The server's log so far (stderr), for failure messages. */
  get log(): string {
    return this.output;
  }

  kill9(): Promise<void> {
    return kill9(this.child);
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function jobFunction(name: string, over: Record<string, unknown> = {}, versionOver: Record<string, unknown> = {}) {
  return {
    name,
    ...over,
    version: {
      mode: 'job' as const,
      runtime: { type: 'process' as const, cwd: FIXTURES },
      job: { command: [process.execPath, join(FIXTURES, 'job.mjs')] },
      stopGraceSeconds: 1,
      ...versionOver,
    },
  };
}

export function serverFunction(name: string, versionOver: Record<string, unknown> = {}) {
  return {
    name,
    version: {
      mode: 'server' as const,
      runtime: { type: 'process' as const, command: [process.execPath, join(FIXTURES, 'server.mjs')], cwd: FIXTURES },
      server: { inferencePath: '/infer', healthPath: '/health', startupTimeoutSeconds: 20 },
      stopGraceSeconds: 1,
      ...versionOver,
    },
  };
}

/** Waits for a fixture job to write its pid file, and reads it. */
export function pidsFrom(file: string, ms = 15_000): Promise<{ pid: number; childPid: number }> {
  return eventually(async () => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { pid: number; childPid: number };
    } catch {
      return undefined;
    }
  }, ms, `${file} to be written`);
}
