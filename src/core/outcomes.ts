import type { TaskStatus, TerminalTaskStatus } from './states.js';

/**
 * What one attempt of a task came to, as the outcome feed records it: written by the store in
 * the same transaction as the task's move, so the feed never misses an end nor shows one that
 * was rolled back. An attempt ends once, so (task, attempt) names an outcome for good.
 */
export interface TaskOutcome {
  /** Stable across deliveries (`<taskId>.<attempt>`): a consumer de-duplicates by it. */
  id: string;
  /** Where the outcome sits in the feed, to acknowledge it by; opaque, its form is the adapter's. */
  position: string;
  taskId: string;
  tenantId: string;
  functionId: string;
  versionId: string;
  /** The attempt that ended. */
  attempt: number;
  /** The task's status after the move: a terminal one, or QUEUED when another attempt is scheduled. */
  status: TerminalTaskStatus | 'QUEUED';
  /** The code of the attempt's error (see task-errors.ts); null when it succeeded. */
  errorCode: string | null;
  createdAt: number;
  /** When the attempt started; null for a task that ended without running (cancelled or expired in the queue). */
  startedAt: number | null;
  /** When the move happened: the task's finishedAt for an end, the attempt's end for a retry. */
  at: number;
}

export function outcomeId(taskId: string, attempt: number): string {
  return `${taskId}.${attempt}`;
}

/** Whether the outcome is the task's last: no attempt follows it. */
export function isFinalOutcome(outcome: Pick<TaskOutcome, 'status'>): boolean {
  return (outcome.status as TaskStatus) !== 'QUEUED';
}
