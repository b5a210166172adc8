import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchStore, benchStore } from './bench-store.js';
import { onInterrupt } from './interrupts.js';
import { LOOPBACK, httpRequest, keepAliveAgent, type HttpResult } from './http-client.js';

/** A real `ferry server` child process on a free port, with its admin key and a keep-alive client. */
export class FerryServer {
  /** Error lines the server logged (JSON logs with level "error"), kept for the report. */
  readonly errors: string[] = [];
  errorCount = 0;
  private readonly agent = keepAliveAgent(50);
  private stderrTail = '';
  private forgetInterrupt: () => void = () => {};

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
    readonly adminKey: string,
    private readonly store: BenchStore,
  ) {}

  /** What the store holds: its PostgreSQL schema's size, or null on SQLite (measure its data directory). */
  databaseBytes(): Promise<number | null> {
    return this.store.databaseBytes();
  }

  /**
   * Runs `node bin/ferry.js --data-dir DIR server --port 0 --gpus none` and waits for its
   * `listening on URL` line. BENCH_FERRY_NODE_ARGS adds flags for the server's node (e.g.
   * `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes); `env` adds to its environment.
   */
  static async start(repoRoot: string, dataDir: string, timeoutMs: number, env: Record<string, string> = {}): Promise<FerryServer> {
    const nodeArgs = (process.env.BENCH_FERRY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const store = await benchStore();
    const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'bin', 'ferry.js'), '--data-dir', dataDir, 'server', '--port', '0', '--host', LOOPBACK, '--gpus', 'none', ...store.args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...store.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`ferry server printed no "listening on" line within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.kill('SIGKILL');
        reject(new Error(`${err.message}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
      };
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /^listening on (http:\/\/\S+)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code, sig) => fail(new Error(`ferry server exited (${sig ?? code}) before listening`)));
    });
    child.removeAllListeners('exit');
    const parsed = new URL(url);
    if (parsed.hostname !== LOOPBACK) throw new Error(`ferry server listens on ${url}, not on ${LOOPBACK}`);
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const server = new FerryServer(child, url, Number(parsed.port), adminKey, store);
    server.forgetInterrupt = onInterrupt(() => server.stop(2_000));
    server.stderrTail = stderr;
    child.stderr!.removeAllListeners('data');
    child.stderr!.on('data', (d: string) => server.onStderr(d));
    return server;
  }

  private onStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-4000);
    for (const line of text.split('\n')) {
      if (!line.includes('"level":"error"')) continue;
      this.errorCount++;
      if (this.errors.length < 5) this.errors.push(line.slice(0, 500));
    }
  }

  get recentStderr(): string {
    return this.stderrTail;
  }

  /** A request to the API as the admin; `body` is sent as JSON. */
  request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpResult> {
    return httpRequest(this.agent, this.port, method, path, {
      headers: { authorization: `Bearer ${this.adminKey}`, ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      timeoutMs: options.timeoutMs,
    });
  }

  /** Like `request`, but an answer other than `expect` throws with the body. */
  async json<T>(method: string, path: string, expect: number, body?: unknown): Promise<T> {
    const res = await this.request(method, path, { body });
    if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${res.body.slice(0, 1000)}`);
    return JSON.parse(res.body) as T;
  }

  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  async stop(graceMs: number): Promise<'exited' | 'killed'> {
    this.forgetInterrupt();
    const outcome = await this.end(graceMs);
    // What the server kept in a shared database (its PostgreSQL schema) goes once it stopped.
    await this.store.drop();
    return outcome;
  }

  private async end(graceMs: number): Promise<'exited' | 'killed'> {
    this.agent.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return 'exited';
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([exited.then(() => 'exited' as const), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)))]);
    clearTimeout(timer);
    if (outcome === 'exited') return 'exited';
    this.child.kill('SIGKILL');
    await exited;
    return 'killed';
  }
}
