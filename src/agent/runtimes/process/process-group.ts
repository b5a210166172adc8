import { type ChildProcess, spawn } from 'node:child_process';
import type { PidRegistry } from './pid-registry.js';

export interface GroupOptions {
  cwd: string;
  /** Where the group is recorded while it runs, so a later agent can stop it if we die. */
  registry: PidRegistry;
  env: Record<string, string | undefined>;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

/**
 * A command run as the leader of its own process group, so stopping it stops everything it
 * started: SIGTERM to the group (a training job can checkpoint), SIGKILL after the grace period.
 */
export class ProcessGroup {
  readonly child: ChildProcess;
  /** Resolves when the leader has exited and its output is read. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private killTimer: NodeJS.Timeout | null = null;

  constructor(command: string[], options: GroupOptions) {
    const [file, ...args] = command;
    this.child = spawn(file!, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid !== undefined) options.registry.record(pid);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => options.onOutput('stdout', d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => options.onOutput('stderr', d));
    // A command that exits without reading its stdin must not crash us with EPIPE.
    this.child.stdin!.on('error', () => {});
    this.closed = new Promise((resolve) => {
      this.child.once('error', (err) => {
        options.onOutput('stderr', `cannot start ${file}: ${err.message}\n`);
        resolve({ code: 127, signal: null });
      });
      this.child.once('exit', () => {
        if (this.killTimer) clearTimeout(this.killTimer);
        // The leader is gone; make sure nothing it left in its group survives it. This must not
        // wait for 'close': a child still holding the leader's stdout would keep it from coming.
        this.signal('SIGKILL');
        if (pid !== undefined) options.registry.forget(pid);
      });
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  writeStdin(data: string): void {
    this.child.stdin!.end(data);
  }

  /** SIGTERM now, SIGKILL after `graceMs`; resolves when the leader has exited. */
  async terminate(graceMs: number): Promise<void> {
    if (this.running) {
      this.signal('SIGTERM');
      this.killTimer ??= setTimeout(() => this.signal('SIGKILL'), graceMs);
    }
    await this.closed;
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
