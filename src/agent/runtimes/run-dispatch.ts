import type { VersionSpec } from '../../core/types.js';
import type { RunResult, TaskContext } from './runtime.js';
import type { ServerClient } from './server-client.js';

/** What an instance offers the dispatch of a run, whatever runtime it belongs to. */
export interface RunTarget {
  readonly spec: VersionSpec;
  /** The instance's server (server mode), which gets the queries; null without one. */
  readonly client: ServerClient | null;
  /** Runs a command task as the version's job; called only for a task not yet stopped. */
  runCommand(ctx: TaskContext): Promise<RunResult>;
  /** Ends the instance with `reason` as its exit and stops it, so the control plane replaces it. */
  restart(reason: string): Promise<void>;
}

/**
 * Runs one attempt on an instance (`RuntimeInstance.run`): a query goes to its server, a command
 * to its job. Never rejects.
 */
export function dispatchRun(target: RunTarget, ctx: TaskContext): Promise<RunResult> {
  // Stopped before it began (a cancel that came while its files were prepared): start nothing,
  // since an abort listener added now would never fire.
  if (ctx.signal.aborted) return Promise.resolve({ kind: 'aborted' });
  if (ctx.task.taskType === 'query') return target.client!.query(ctx, target.spec.server!.inferencePath, () => void freeAfterAbort(target));
  return target.runCommand(ctx);
}

/**
 * After an aborted request the server may still be busy with it. If it does not answer its
 * health path within the grace period, the instance is restarted so the GPU is freed.
 */
async function freeAfterAbort(target: RunTarget): Promise<void> {
  const { spec } = target;
  if (await target.client!.freedWithin(spec.server!.healthPath, spec.stopGraceSeconds * 1000)) return;
  await target.restart('restarted: it did not free itself after a cancelled or timed-out request');
}
