import type { RuntimeType } from '../../core/runtime-types.js';
import type { GpuAssignment, TaskError, TaskRecord, VersionRecord } from '../../core/types.js';
import type { OutputFile } from '../output-assets.js';
import type { TaskFiles } from '../task-files.js';

export type LogStream = 'stdout' | 'stderr';

/** What a runtime needs to start one instance of a version. */
export interface InstanceContext {
  instanceId: string;
  version: VersionRecord;
  gpus: GpuAssignment[];
  /** Scratch directory of the instance, removed when it stops. */
  workDir: string;
  /** The instance's own output (a server's stdout/stderr), for start-failure reasons. */
  onLog(stream: LogStream, text: string): void;
  /** Something the instance's events should show: an image pull's progress, GPUs given as env only. */
  onEvent(message: string): void;
}

/** What a runtime needs to run one attempt of a task on a ready instance. */
export interface TaskContext {
  task: TaskRecord;
  files: TaskFiles;
  /** Aborted to stop the work (cancel, timeout, lease lost). */
  signal: AbortSignal;
  onLog(stream: LogStream, text: string): void;
}

/**
 * `outputType`: a server-mode response's MIME type, `output` then its text. `outputFile`: the
 * output is that file's bytes instead (too large to keep inline, or not text), to become an asset.
 */
export type RunResult = { kind: 'ok'; output: unknown; outputType?: string; outputFile?: OutputFile } | { kind: 'error'; error: TaskError } | { kind: 'aborted' };

export interface RuntimeInstance {
  /** Resolves with a reason if the instance dies on its own; never rejects. */
  readonly exited: Promise<string>;
  /** Runs one attempt. Never rejects: failures come back as `error`, stops as `aborted`. */
  run(ctx: TaskContext): Promise<RunResult>;
  /** Stops the instance: SIGTERM (or the engine's stop), then a kill after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The runtime port: turns a version into running instances and tasks into work on them. Every
 * runtime honours the same spec and passes the same contract suite (runtime.contract.ts).
 */
export interface Runtime {
  readonly type: RuntimeType;
  /** Starts an instance: runs `init` once, then (server mode) waits for the health path. Rejects with the reason it could not start. */
  start(ctx: InstanceContext, signal: AbortSignal): Promise<RuntimeInstance>;
  /**
   * Stops whatever an earlier agent on this node left running when it died without stopping
   * its instances (SIGKILL, a crash). Called once when an agent starts; returns how many.
   */
  reapLeftovers(): Promise<number>;
}
