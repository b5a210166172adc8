import type { Page, TaskRecord } from '../core/types.js';
import type { ExecutionStatus } from '../core/workflows/interpreter.js';
import type { ExecutionRecord, ExecutionTask, ExecutionTimer, HistoryEntry, NewHistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../core/workflows/workflow.js';
import type { PageRequest } from './paging.js';
import type { NewTask } from './task-queue.js';

export interface ExecutionFilter {
  workflowId?: string;
  statuses?: ExecutionStatus[];
}

/** What one step of an execution changes, saved in one transaction. */
export interface StepWrite {
  execution: Pick<ExecutionRecord, 'status' | 'state' | 'output' | 'error' | 'stepsDone' | 'updatedAt' | 'endedAt'>;
  /** Tasks to start, each under its step key: one whose key has a task already is not started again. */
  tasks: { key: string; state: string; task: NewTask }[];
  timers: { key: string; at: number }[];
  /** Map items' results kept for a ResultWriter, under the Map's key. */
  results: { key: string; index: number; value: unknown }[];
  /** Timers that fired and were handled. Every timer, item page and kept result goes once the execution ends. */
  firedTimers: string[];
  /** Entries with an `eventId` already stored are left out. */
  history: NewHistoryEntry[];
}

/**
 * Workflows (names with numbered versions of their definition) and their executions: each
 * execution's interpreter state, the tasks it started (one per step key, ever), its timers and its
 * history. A step is saved against the revision it was computed from, so two writers (the leader
 * applying an outcome, a replica applying a cancel) never both move one execution.
 */
export interface WorkflowStore {
  /** Stores a workflow with its first version; throws WORKFLOW_EXISTS when the tenant has the name already. */
  createWorkflow(workflow: WorkflowRecord, version: WorkflowVersionRecord): Promise<void>;
  /** Adds the next version (its number is the store's); null when the workflow does not exist. */
  addWorkflowVersion(version: Omit<WorkflowVersionRecord, 'number'>): Promise<WorkflowVersionRecord | null>;
  /** By id or by name. */
  getWorkflow(tenantId: string, idOrName: string): Promise<WorkflowRecord | null>;
  listWorkflows(tenantId: string, page: PageRequest): Promise<Page<WorkflowRecord>>;
  /** Its versions and finished executions go with it; throws WORKFLOW_RUNNING while an execution runs. */
  deleteWorkflow(tenantId: string, workflowId: string): Promise<boolean>;
  /** A version by id, or by number when `number` is given. */
  getWorkflowVersion(tenantId: string, workflowId: string, version: { id: string } | { number: number }): Promise<WorkflowVersionRecord | null>;
  /** Newest first. */
  listWorkflowVersions(tenantId: string, workflowId: string): Promise<WorkflowVersionRecord[]>;

  /**
   * Stores a new execution with its first step, or returns the earlier execution of the same
   * idempotency key (per tenant), storing nothing.
   */
  createExecution(execution: ExecutionRecord, step: StepWrite): Promise<{ created: true; tasks: TaskRecord[] } | { created: false; execution: ExecutionRecord }>;
  getExecution(tenantId: string, executionId: string): Promise<ExecutionRecord | null>;
  /** The tenant's execution of an idempotency key. */
  executionByKey(tenantId: string, idempotencyKey: string): Promise<ExecutionRecord | null>;
  /** Any tenant's: for the leader's driver. */
  executionById(executionId: string): Promise<ExecutionRecord | null>;
  /** Newest first. */
  listExecutions(tenantId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionRecord>>;
  /**
   * Saves a step computed from revision `rev`: false (nothing saved) when the execution moved on
   * since. Returns the tasks it started.
   */
  saveStep(executionId: string, rev: number, step: StepWrite): Promise<{ saved: false } | { saved: true; tasks: TaskRecord[] }>;
  /** Appends entries outside a step (an attempt's failure, retried by the task itself); repeats by `eventId` are left out. */
  appendHistory(executionId: string, entries: NewHistoryEntry[]): Promise<void>;
  /** The executions' tasks among these task ids: which ended tasks concern a workflow. */
  executionTasksOf(taskIds: string[]): Promise<ExecutionTask[]>;
  /** An execution's tasks of the keys given. */
  executionTasks(executionId: string, keys: string[]): Promise<ExecutionTask[]>;
  /** An execution's tasks in the order they were started, of one state (by name) when given. */
  listExecutionTasks(executionId: string, filter: { state?: string }, page: PageRequest): Promise<Page<ExecutionTask>>;
  /**
   * Tasks of ended executions that are still queued or running: those whose cancel a crash cut
   * off between the end being saved and the cancel being sent.
   */
  unfinishedTasksOfEndedExecutions(limit: number): Promise<{ tenantId: string; taskId: string }[]>;
  /** Timers due at `now`, earliest first. */
  dueTimers(now: number, limit: number): Promise<ExecutionTimer[]>;
  /** When the next timer is due; null when none is set. */
  nextTimerAt(): Promise<number | null>;
  /** In order, after `afterSeq`. */
  history(executionId: string, afterSeq: number, limit: number): Promise<HistoryEntry[]>;
  /** Stores (or replaces) pages of a Map's items under its key; they go when the execution ends. */
  putItemPages(executionId: string, key: string, pages: { page: number; items: unknown[] }[]): Promise<void>;
  itemPage(executionId: string, key: string, page: number): Promise<unknown[] | null>;
  /** A Map's kept results in item order, after `afterIndex` (-1: from the first). */
  mapResults(executionId: string, key: string, afterIndex: number, limit: number): Promise<{ index: number; value: unknown }[]>;
}
