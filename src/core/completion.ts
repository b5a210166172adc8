import { backoffMs } from './backoff.js';
import type { OutputAssetRef } from './assets.js';
import type { TaskStatus, TerminalTaskStatus } from './states.js';
import type { TaskError } from './types.js';

/** What an agent reports at the end of one attempt. */
export interface AttemptOutcome {
  status: Extract<TerminalTaskStatus, 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED'>;
  output?: unknown;
  /** Set for a server-mode response kept as given: `output` is then its text (see core/outputs.ts). */
  outputType?: string;
  /** The files the attempt left, uploaded as assets of the task. */
  outputAssets?: OutputAssetRef[];
  /** The one of them that is the output itself (`output` is then null). */
  outputAsset?: string;
  error?: TaskError | null;
}

export type CompletionDecision =
  | { kind: 'finish'; status: TerminalTaskStatus }
  | { kind: 'retry'; delayMs: number };

/** Back-off before retry n (1-based): 1 s, 2 s, 4 s … capped at 60 s, scaled by `baseMs`. */
export function retryDelayMs(attempt: number, baseMs = 1000): number {
  return backoffMs(attempt, baseMs, 60_000);
}

/**
 * Decides what an attempt's outcome does to a task, given the status it is in when the result
 * arrives. A task being cancelled ends CANCELLED unless its work already succeeded; a failure or
 * timeout with attempts left is retried after back-off. Both store adapters apply this inside the
 * transaction that records the result.
 */
export function decideCompletion(
  current: TaskStatus,
  outcome: AttemptOutcome,
  attempt: number,
  maxAttempts: number,
  retryBaseMs: number,
): CompletionDecision {
  if (current === 'CANCELLING') return { kind: 'finish', status: outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'CANCELLED' };
  if ((outcome.status === 'FAILED' || outcome.status === 'TIMED_OUT') && attempt < maxAttempts) {
    return { kind: 'retry', delayMs: retryDelayMs(attempt, retryBaseMs) };
  }
  return { kind: 'finish', status: outcome.status };
}

/**
 * What happens to a leased task whose holder is gone (lease expired, agent or server died,
 * instance removed without draining). Such losses are not the task's fault, so they re-queue
 * as a new attempt without using up `retries`, but only a few times: a task that keeps killing
 * its agent must end.
 */
export function decideReclaim(current: TaskStatus, lostAttempts: number, extraAttempts: number): TerminalTaskStatus | 'QUEUED' {
  if (current === 'CANCELLING') return 'CANCELLED';
  return lostAttempts < extraAttempts ? 'QUEUED' : 'FAILED';
}
