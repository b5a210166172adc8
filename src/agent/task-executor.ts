import type { AgentProtocol } from '../core/agent-protocol.js';
import type { OutputAssetRef } from '../core/assets.js';
import type { AttemptOutcome } from '../core/completion.js';
import { TASK_ERRORS } from '../core/task-errors.js';
import type { TaskRecord, TaskRef } from '../core/types.js';
import { type AssetCache, AssetUnavailable } from './asset-cache.js';
import { LogCollector } from './log-collector.js';
import { outputDirFiles, uploadOutputs } from './output-assets.js';
import type { RunResult, RuntimeInstance } from './runtimes/runtime.js';
import { type TaskDirs, type TaskFiles, readProgress } from './task-files.js';

/** Why a run was stopped before it ended by itself. */
export type StopReason = 'cancel' | 'timeout' | 'lost';

export interface ExecutorConfig {
  /** The node's attempt directories. */
  taskDirs: TaskDirs;
  /** The node's input assets. */
  assets: AssetCache;
  /** The control plane the relative URLs of Ferry-served blobs are on. */
  controlUrl: string;
  logFlushMs: number;
  progressPollMs: number;
  /** Told as each attempt is handed to its instance, its files ready (the end of dispatch), for metrics. */
  onTaskStarted?: (task: TaskRecord) => void;
}

/** One attempt of a task on an instance: its files, logs, progress, timeout and result. */
export class TaskRun {
  readonly ref: TaskRef;
  private readonly abort = new AbortController();
  private stopReason: StopReason | null = null;

  constructor(
    readonly task: TaskRecord,
    private readonly instance: RuntimeInstance,
    private readonly protocol: AgentProtocol,
    private readonly config: ExecutorConfig,
    private readonly onError: (err: unknown) => void,
    /** Reports the attempt's outcome (the instance may ask for its next task in the same call). */
    private readonly report: (ref: TaskRef, outcome: AttemptOutcome) => Promise<void>,
  ) {
    this.ref = { id: task.id, attempt: task.attempt };
  }

  stop(reason: StopReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.abort.abort();
  }

  /** Runs the attempt to its end and reports the outcome; never rejects. */
  async execute(): Promise<void> {
    const logs = new LogCollector((lines) => this.protocol.logs(this.ref, lines), this.config.logFlushMs, this.onError);
    const timeout = setTimeout(() => this.stop('timeout'), this.task.timeoutSeconds * 1000);
    let progressTimer: NodeJS.Timeout | null = null;
    let files: TaskFiles | null = null;
    try {
      files = await this.config.taskDirs.acquire(this.task);
      if (this.task.inputAssets.length > 0) await this.config.assets.provide(await this.protocol.inputAssets(this.task), files.inputAssetsDir, this.abort.signal);
      const progressFile = files.progressFile;
      let mtime = 0;
      let polling: Promise<void> = Promise.resolve();
      const poll = async (): Promise<void> => {
        const read = await readProgress(progressFile, mtime);
        if (!read) return;
        mtime = read.mtimeMs;
        await this.protocol.progress(this.ref, read.progress);
      };
      progressTimer = setInterval(() => {
        polling = polling.then(poll).catch(this.onError);
      }, this.config.progressPollMs);
      this.config.onTaskStarted?.(this.task);
      const result = await this.instance.run({ task: this.task, files, signal: this.abort.signal, onLog: (s, t) => logs.write(s, t) });
      clearInterval(progressTimer);
      await polling;
      await poll().catch(this.onError);
      const outcome = this.outcome(result.kind === 'ok' && this.stopReason === null ? await this.keepOutputs(result, files) : result);
      if (outcome) {
        if (outcome.status !== 'SUCCEEDED' && outcome.error) logs.system(`[ferry] attempt ${this.task.attempt} ${outcome.status}: ${outcome.error.message}`);
        await logs.flush(true);
        await this.report(this.ref, outcome);
      } else {
        await logs.flush(true);
      }
    } catch (err) {
      const unavailable = err instanceof AssetUnavailable && this.stopReason === null;
      if (unavailable) logs.system(`[ferry] attempt ${this.task.attempt}: input asset ${err.assetId} could not be fetched: ${err.message}`);
      else this.onError(err);
      await logs.flush(true).catch(this.onError);
      if (this.stopReason !== 'lost') {
        const error = unavailable ? TASK_ERRORS.assetUnavailable(err.assetId, err.message) : TASK_ERRORS.agentError((err as Error).message);
        await this.report(this.ref, { status: 'FAILED', error }).catch(this.onError);
      }
    } finally {
      clearTimeout(timeout);
      if (progressTimer) clearInterval(progressTimer);
      // The slot frees without waiting for the files to go. The directory of an attempt that was
      // stopped is not used again: what it ran may still write into it.
      if (files) void this.config.taskDirs.release(files, this.stopReason === null).catch(this.onError);
    }
  }

  /**
   * Uploads what the attempt left as assets of the task: its output when that is a file (a large or
   * binary response, a large output file), and every file of its output directory.
   */
  private async keepOutputs(result: Extract<RunResult, { kind: 'ok' }>, files: TaskFiles): Promise<RunResult & { outputAssets?: OutputAssetRef[]; outputAsset?: string }> {
    const left = await outputDirFiles(files.outputDir);
    if (result.outputFile) left.unshift(result.outputFile);
    if (left.length === 0) return result;
    const outputAssets = await uploadOutputs(this.protocol, this.task, left, this.config.controlUrl, this.abort.signal);
    if (!result.outputFile) return { ...result, outputAssets };
    return { kind: 'ok', output: null, outputType: result.outputFile.contentType, outputAssets, outputAsset: outputAssets[0]!.id };
  }

  private outcome(result: RunResult & { outputAssets?: OutputAssetRef[]; outputAsset?: string }): AttemptOutcome | null {
    if (result.kind === 'aborted' || this.stopReason !== null) {
      switch (this.stopReason) {
        case 'timeout':
          return { status: 'TIMED_OUT', error: TASK_ERRORS.timedOut(this.task.timeoutSeconds) };
        case 'cancel':
          return { status: 'CANCELLED', error: TASK_ERRORS.cancelled() };
        default:
          // Lost: the control plane took the task back; whatever we say would be refused.
          return null;
      }
    }
    if (result.kind === 'ok') return { status: 'SUCCEEDED', output: result.output, outputType: result.outputType, outputAssets: result.outputAssets, outputAsset: result.outputAsset };
    return { status: 'FAILED', error: result.error };
  }
}
