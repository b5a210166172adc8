import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentProtocol, InstanceAssignment } from '../core/agent-protocol.js';
import type { AttemptOutcome } from '../core/completion.js';
import type { TaskRecord, TaskRef } from '../core/types.js';
import type { Runtime, RuntimeInstance } from './runtimes/runtime.js';
import { type ExecutorConfig, type StopReason, TaskRun } from './task-executor.js';

export interface LocalInstanceConfig extends ExecutorConfig {
  instancesDir: string;
  claimWaitMs: number;
}

/**
 * One instance on this node: starts it through its runtime, pulls tasks only for its free slots,
 * drains (no new tasks, stop when empty) and stops. It reports its own transitions.
 */
export class LocalInstance {
  readonly id: string;
  private runtimeInstance: RuntimeInstance | null = null;
  private readonly runs = new Map<string, TaskRun>();
  private readonly lifecycle = new AbortController();
  private claimAbort = new AbortController();
  private slotFreed: (() => void) | null = null;
  private draining = false;
  private ended = false;

  constructor(
    private readonly assignment: InstanceAssignment,
    private readonly runtime: Runtime,
    private readonly protocol: AgentProtocol,
    private readonly config: LocalInstanceConfig,
    private readonly onEnded: (id: string) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.id = assignment.instance.id;
  }

  get held(): TaskRef[] {
    return [...this.runs.values()].map((r) => r.ref);
  }

  stopRun(ref: TaskRef, reason: StopReason): void {
    const run = this.runs.get(ref.id);
    if (run && run.ref.attempt === ref.attempt) run.stop(reason);
  }

  async start(): Promise<void> {
    const { instance, version } = this.assignment;
    let rt: RuntimeInstance;
    try {
      rt = await this.runtime.start(
        {
          instanceId: instance.id,
          version,
          gpus: instance.gpus,
          workDir: join(this.config.instancesDir, instance.id),
          onLog: () => {},
          onEvent: (message) => void this.protocol.instanceEvent(instance.id, message).catch(this.onError),
        },
        this.lifecycle.signal,
      );
    } catch (err) {
      if (this.draining) await this.end('STOPPED', 'drained before it was ready');
      else await this.end('FAILED', `could not start: ${(err as Error).message}`);
      return;
    }
    if (this.ended || this.lifecycle.signal.aborted) {
      // Killed or drained while its start finished: it never serves.
      await rt.stop(version.spec.stopGraceSeconds * 1000);
      if (this.draining) await this.end('STOPPED', 'drained before it was ready');
      return;
    }
    this.runtimeInstance = rt;
    void rt.exited.then((reason) => {
      if (!this.ended && reason !== 'stopped') void this.fail(reason);
    });
    await this.protocol.instanceState(instance.id, 'IDLE', null);
    if (this.draining) return this.finishDrain();
    void this.claimLoop();
  }

  /**
   * Takes no new task; stops (and reports STOPPED) once running tasks end. One still starting
   * stops starting: it was not going to serve.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    if (!this.runtimeInstance) this.lifecycle.abort();
    this.claimAbort.abort();
    this.slotFreed?.();
    void this.finishDrain();
  }

  /** Stops at once without reporting: the control plane already ended this instance. */
  async kill(): Promise<void> {
    for (const run of this.runs.values()) run.stop('lost');
    await this.shutdown();
    this.onEnded(this.id);
  }

  private async claimLoop(): Promise<void> {
    const concurrency = Math.max(1, this.assignment.version.spec.concurrency);
    while (!this.draining && !this.ended) {
      const free = concurrency - this.runs.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        this.slotFreed = null;
        continue;
      }
      try {
        const tasks = await this.protocol.claim(
          { instanceId: this.id, versionId: this.assignment.version.id, limit: free, running: this.runs.size, waitMs: this.config.claimWaitMs },
          this.claimAbort.signal,
        );
        for (const task of tasks) this.launch(task);
      } catch (err) {
        this.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private launch(task: TaskRecord): void {
    const run = new TaskRun(task, this.runtimeInstance!, this.protocol, this.config, this.onError, (ref, outcome) => this.report(ref, outcome));
    this.runs.set(task.id, run);
    void run.execute().finally(() => {
      // The next attempt of the same task may already run here (claimed with this one's report).
      if (this.runs.get(task.id) === run) this.runs.delete(task.id);
      this.slotFreed?.();
      if (this.draining) void this.finishDrain();
    });
  }

  /**
   * Reports an attempt's end and, unless draining, takes the next task for the slot it frees in
   * the same call: one round trip and one commit instead of a completion and a claim.
   */
  private async report(ref: TaskRef, outcome: AttemptOutcome): Promise<void> {
    const next = this.draining || this.ended ? undefined : { instanceId: this.id, versionId: this.assignment.version.id, limit: 1, running: this.runs.size - 1, waitMs: 0 };
    for (const task of await this.protocol.complete(ref, outcome, next)) this.launch(task);
  }

  private async finishDrain(): Promise<void> {
    if (this.runs.size > 0 || this.ended || !this.runtimeInstance) return;
    await this.end('STOPPED', 'drained');
  }

  private async fail(reason: string): Promise<void> {
    for (const run of this.runs.values()) run.stop('lost');
    await this.end('FAILED', reason);
  }

  private async end(state: 'STOPPED' | 'FAILED', reason: string): Promise<void> {
    if (this.ended) return;
    await this.shutdown();
    await this.protocol.instanceState(this.id, state, reason).catch(this.onError);
    // Forgotten only after the report: until then the agent must not take it for a lost instance.
    this.onEnded(this.id);
  }

  private async shutdown(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.lifecycle.abort();
    this.claimAbort.abort();
    this.slotFreed?.();
    await this.runtimeInstance?.stop(this.assignment.version.spec.stopGraceSeconds * 1000).catch(this.onError);
    await rm(join(this.config.instancesDir, this.id), { recursive: true, force: true }).catch(this.onError);
  }
}
