import { ID_PREFIX, newId } from './ids.js';
import type { TaskType } from './states.js';
import type { Destinations } from './destinations.js';
import type { TaskRecord } from './types.js';

/** What a caller decides about a new task; everything else starts the same for every task. */
export interface NewTaskFields {
  tenantId: string;
  functionId: string;
  versionId: string;
  taskType: TaskType;
  input: unknown;
  priority: number;
  maxAttempts: number;
  timeoutSeconds: number;
  idempotencyKey: string | null;
  inputAssets?: string[];
  destinations?: Destinations | null;
  /** How long it may wait in the queue. */
  maxQueuedMs: number;
}

/**
 * A task as it is first stored: QUEUED, attempt 1, runnable now. Fields are copied by name: an
 * object rest (`{ maxQueuedMs, ...rest }`) costs V8 ~5 µs here, on every submit.
 */
export function newTask(f: NewTaskFields, now: number): TaskRecord {
  return {
    tenantId: f.tenantId,
    functionId: f.functionId,
    versionId: f.versionId,
    taskType: f.taskType,
    input: f.input,
    inputAssets: f.inputAssets ?? [],
    destinations: f.destinations ?? null,
    priority: f.priority,
    maxAttempts: f.maxAttempts,
    timeoutSeconds: f.timeoutSeconds,
    idempotencyKey: f.idempotencyKey,
    id: newId(ID_PREFIX.task, now),
    status: 'QUEUED',
    output: null,
    outputType: null,
    outputAssets: [],
    outputAsset: null,
    error: null,
    progress: 0,
    progressMessage: null,
    partialOutput: null,
    attempt: 1,
    lostAttempts: 0,
    instanceId: null,
    nodeId: null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    runAt: now,
    expiresAt: now + f.maxQueuedMs,
  };
}
