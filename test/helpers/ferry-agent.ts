import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kill9, stopChild } from './child.js';
import { FAST_TIMERS, ROOT } from './ferry-server.js';

/**
 * A real `ferry agent` in a child process, serving control planes over HTTP, with its own data
 * directory (so its node id survives a restart). It can be SIGKILLed, frozen and started again.
 */
export class FerryAgent {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ferry-agent-'));
  nodeId = '';
  private child: ChildProcess | null = null;
  private output = '';

  constructor(
    private readonly servers: () => string[],
    private readonly token: string,
    private readonly gpus: string,
    private readonly env: Record<string, string> = {},
  ) {}

  get pid(): number {
    return this.child!.pid!;
  }

  /** The agent's log so far (stderr), for failure messages. */
  get log(): string {
    return this.output;
  }

  async start(): Promise<this> {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'ferry.js'), '--data-dir', this.dataDir, '--token', this.token, 'agent', '--server', this.servers().join(','), '--gpus', this.gpus],
      { env: { ...process.env, ...FAST_TIMERS, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    this.nodeId = await new Promise<string>((resolveId, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`agent did not start: ${out}${this.output}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Ferry agent (node_\w+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveId(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent exited with ${code}: ${out}${this.output}`));
      });
    });
    return this;
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(sig);
  }

  /** Whether the last run ended by SIGKILL (it may have left processes for a restart to reap). */
  get killed(): boolean {
    return this.child?.signalCode === 'SIGKILL';
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
