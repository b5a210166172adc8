import type { StateMachine } from './definition.js';
import type { ExecutionState, ExecutionStatus, StepTrace, WorkflowCommand, WorkflowError } from './interpreter.js';

/** A workflow: a name, and its definitions as numbered versions (the newest runs unless one is named). */
export interface WorkflowRecord {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
}

export interface WorkflowVersionRecord {
  id: string;
  tenantId: string;
  workflowId: string;
  number: number;
  definition: StateMachine;
  createdAt: number;
}

export interface ExecutionRecord {
  id: string;
  tenantId: string;
  workflowId: string;
  versionId: string;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: WorkflowError | null;
  /** The interpreter's state (interpreter.ts), saved with every step. */
  state: ExecutionState;
  /** Bumped by every saved step: a step computed from an older state is refused and done again. */
  rev: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** States left (or failed) so far: the progress a follower shows. */
  stepsDone: number;
  /** Past this the execution ends TIMED_OUT; null: no limit. */
  timeoutAt: number | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const satisfies readonly ExecutionStatus[];

/** A task an execution started, under the interpreter's key for it (one task per key, ever). */
export interface ExecutionTask {
  executionId: string;
  key: string;
  state: string;
  taskId: string;
  createdAt: number;
}

export type HistoryType =
  | 'ExecutionStarted'
  | 'StateEntered'
  | 'StateExited'
  | 'StateRetrying'
  | 'StateCaught'
  | 'StateFailed'
  | 'TaskScheduled'
  | 'TaskAttemptFailed'
  | 'TaskSucceeded'
  | 'TaskFailed'
  | 'ExecutionSucceeded'
  | 'ExecutionFailed'
  | 'ExecutionCancelled'
  | 'ExecutionTimedOut';

/** One line of an execution's history, in the order things happened. */
export interface HistoryEntry {
  seq: number;
  executionId: string;
  at: number;
  type: HistoryType;
  /** The step's key (where it is: scope, visit, state, try), for entries about a step or its task. */
  key: string | null;
  state: string | null;
  taskId: string | null;
  /** Input, output, error, the time of a retry, the next state of a catch: JSON, cut down when large. */
  detail: unknown;
  /** Set for entries made from an outcome (its id), which are stored once however often it is handed over. */
  eventId: string | null;
}

export type NewHistoryEntry = Omit<HistoryEntry, 'seq' | 'executionId'>;

/** A timer the execution waits on: a Wait state, a retry's back-off, or the execution's own timeout. */
export interface ExecutionTimer {
  executionId: string;
  key: string;
  at: number;
}

/** An asset's id as a state's data names it: the id itself, or a reference `{id, …}` (a task's `outputAssets`); null otherwise. */
export function assetIdIn(value: unknown): string | null {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : value;
  return typeof id === 'string' ? id : null;
}

/** The key of the execution's own timeout timer (the interpreter's keys all start with a scope). */
export const TIMEOUT_TIMER = '@timeout';

/** Larger details are kept as a note of their size: a history is for reading, not for carrying results. */
const MAX_DETAIL_BYTES = 8 * 1024;

export function historyDetail(value: unknown): unknown {
  const text = JSON.stringify(value ?? null);
  return text.length <= MAX_DETAIL_BYTES ? value : { truncated: true, bytes: new TextEncoder().encode(text).byteLength };
}

/** History entries for what the interpreter did, the tasks it started and how the execution ended. */
export function historyOf(trace: StepTrace[], commands: WorkflowCommand[], taskIds: ReadonlyMap<string, string>, at: number): NewHistoryEntry[] {
  const entries: NewHistoryEntry[] = [];
  const entry = (type: HistoryType, key: string | null, state: string | null, detail: unknown, taskId: string | null = null): void => {
    entries.push({ at, type, key, state, taskId, detail: historyDetail(detail), eventId: null });
  };
  for (const t of trace) {
    if (t.type === 'entered') entry('StateEntered', t.key, t.state, { input: t.input });
    else if (t.type === 'exited') entry('StateExited', t.key, t.state, { output: t.output });
    else if (t.type === 'retrying') entry('StateRetrying', t.key, t.state, { error: t.error, at: t.at });
    else if (t.type === 'caught') entry('StateCaught', t.key, t.state, { error: t.error, next: t.next });
    else entry('StateFailed', t.key, t.state, { error: t.error });
  }
  for (const c of commands) {
    if (c.type === 'start-task') entry('TaskScheduled', c.key, c.state, { resource: c.resource }, taskIds.get(c.key) ?? null);
    if (c.type === 'end') {
      const type = ({ SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', CANCELLED: 'ExecutionCancelled', TIMED_OUT: 'ExecutionTimedOut' } as const)[c.status];
      entry(type, null, null, c.status === 'SUCCEEDED' ? { output: c.output } : { error: c.error ?? null });
    }
  }
  return entries;
}

/** How many states a trace left or failed in: the execution's progress. */
export function stepsDoneIn(trace: StepTrace[]): number {
  return trace.filter((t) => t.type === 'exited' || t.type === 'failed').length;
}
