import type { FerryError } from '../core/errors.js';
import type { DeploymentState, InstanceState, Scope, TaskStatus, TaskType } from '../core/states.js';
import type { CreateAssetRequest } from '../core/assets.js';
import type { Destination, Destinations } from '../core/destinations.js';
import type { AssetFilter, BrokerSource, TaskTemplate, TriggerChanges, TriggerInput, TriggerKind, TriggerState } from '../core/triggers.js';
import type { ScalingSettings, SubmitRequest, TaskError, VersionSpec } from '../core/types.js';
import type { TenantQuotas } from '../core/rate-limits.js';
import type { StateMachine } from '../core/workflows/definition.js';
import type { ExecutionStatus, WorkflowError } from '../core/workflows/interpreter.js';
import type { HistoryType } from '../core/workflows/workflow.js';

export type { CreateAssetRequest, Destinations, ExecutionStatus, StateMachine, SubmitRequest, TenantQuotas, TriggerChanges, TriggerInput };
import type { VersionSpecInput } from '../core/version-spec.js';

/** Wire shapes of the API, as the SDK returns them (timestamps are ISO strings). */
export interface FunctionInfo {
  id: string;
  name: string;
  description: string;
  tags: string[];
  createdAt: string;
}

export type VersionInfo = VersionSpec & { id: string; functionId: string; number: number; createdAt: string };

export interface CreateFunctionRequest {
  name: string;
  description?: string;
  tags?: string[];
  version: VersionSpecInput;
}

export interface InstanceInfo {
  id: string;
  functionId: string;
  versionId: string;
  nodeId: string;
  state: InstanceState;
  gpus: { index: number; type: string; memoryMiB?: number }[];
  activeTasks: number;
  reason: string | null;
  createdAt: string;
  readyAt: string | null;
  endedAt: string | null;
}

export interface DeploymentInfo extends ScalingSettings {
  functionId: string;
  versionId: string;
  state: DeploymentState;
  reason: string | null;
  instances: InstanceInfo[];
  events: { at: string; kind: string; subject: string; from: string | null; to: string; reason: string }[];
}

export interface TaskInfo {
  id: string;
  functionId: string;
  versionId: string;
  taskType: TaskType;
  status: TaskStatus;
  priority: number;
  progress: number;
  progressMessage: string | null;
  partialOutput: unknown;
  position?: number;
  attempt: number;
  maxAttempts: number;
  timeoutSeconds: number;
  instanceId: string | null;
  nodeId: string | null;
  idempotencyKey: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string;
  /** Asset ids the task holds as inputs. */
  inputAssets: string[];
  /** Files the attempt that succeeded left, as assets (`response` or `output`: the output itself, when large or binary). */
  outputAssets: { id: string; name: string; sizeBytes: number; contentType: string }[];
  input?: unknown;
  output?: unknown;
  error: TaskError | null;
}

/** A task of a batch as stored (or the earlier task of its idempotency key), or the error that kept it out. */
export type BatchItem = { id: string; status: TaskStatus; position?: number } | { error: FerryError };

export interface QueueInfo {
  functionId: string;
  versionId?: string;
  queued: number;
  running: number;
  byStatus: Partial<Record<TaskStatus, number>>;
  /** Live instances per state (BUSY: running tasks). */
  instances: Partial<Record<InstanceState, number>>;
}

export interface LogLine {
  seq: number;
  attempt: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: string;
}

/** One event of a task's stream (`client.taskEvents`): the task as it is after the change. */
export interface TaskStreamEvent {
  type: 'status' | 'progress' | 'position' | 'end';
  /** Pass as `lastEventId` to resume after this event. */
  id: string;
  task: TaskInfo;
}

/** A deployment's load at one moment (`client.deploymentTimeline`): instances are the serving ones. */
export interface LoadSampleInfo {
  at: string;
  queued: number;
  running: number;
  instances: number;
  desired: number;
}

/** A deployment, instance or scaling event of the fleet (`client.fleetEvents`). */
export interface FleetEvent {
  seq: number;
  functionId: string;
  versionId: string;
  at: string;
  kind: 'deployment' | 'instance' | 'scaling';
  subject: string;
  from: string | null;
  to: string;
  reason: string;
}

export interface NodeInfo {
  id: string;
  name: string;
  state: string;
  lastSeenAt: string;
  gpus: { index: number; type: string; memoryMiB: number; allocated: 'free' | 'shared' | 'whole'; allocatedMemoryMiB: number }[];
}

export interface GpuTypeInfo {
  type: string;
  memoryMiB: number;
  total: number;
  allocated: number;
  shared: number;
  free: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An API key as listed: never its secret. */
export interface KeyListing {
  id: string;
  name: string;
  scope: Scope;
  /** Its first characters, to tell it apart. */
  prefix: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** One change, as the audit log keeps it. */
export interface AuditEntryInfo {
  seq: number;
  at: string;
  keyId: string | null;
  /** The route: `DELETE /v1/functions/:functionId`. */
  action: string;
  /** The route's parameters. */
  resource: Record<string, string>;
  source: string;
  status: number;
}

/** A new key: its listing and, this once, its secret. */
export interface KeyInfo extends KeyListing {
  key: string;
}

export interface AssetInfo {
  id: string;
  status: 'PENDING' | 'READY';
  contentType: string;
  description: string;
  sizeBytes: number | null;
  sha256: string | null;
  /** Set on a task's output asset, with its file name. */
  taskId: string | null;
  name: string | null;
  pinned: boolean;
  createdAt: string;
  readyAt: string | null;
  /** When the asset goes, unless pinned (null). */
  keepUntil: string | null;
  /** While PENDING: where to PUT the bytes. Once READY: where to GET them. Both until `expiresAt`. */
  uploadUrl?: string;
  downloadUrl?: string;
  expiresAt?: string | null;
}

/** A trigger as the API shows it; the fields of its kind only (see TriggerInput). */
export interface TriggerInfo {
  id: string;
  name: string;
  kind: TriggerKind;
  /** What its events start: a function's task, or a workflow's execution (one of the two is set). */
  functionId: string | null;
  workflowId: string | null;
  versionId: string | null;
  /** cron */
  schedule?: string;
  timezone?: string;
  catchUp?: boolean;
  /** cron: the next ticks, while not paused. */
  nextFires?: string[];
  /** nats, redis, amqp, mqtt */
  source?: BrokerSource;
  /** webhook: where to POST, and (only in the answer to its creation) the secret to sign with. */
  hookPath?: string;
  secret?: string;
  /** asset */
  filter?: AssetFilter;
  task: TaskTemplate;
  destinations: Destinations | null;
  state: TriggerState;
  lastFiredAt: string | null;
  lastError: string | null;
  /** Tasks it has made. */
  fired: number;
  createdAt: string;
  updatedAt: string;
}

/** A task a trigger made, for the event it made it for. */
export interface TriggerFireInfo {
  eventKey: string;
  /** What it started: a task, or (a trigger of a workflow) an execution. */
  taskId?: string;
  executionId?: string;
  at: string;
}

/** One outcome on its way to a destination (GET /v1/tasks/{id}/deliveries). */
export interface DeliveryInfo {
  /** The `webhook-id` of every attempt. */
  id: string;
  taskId: string;
  event: 'success' | 'failure';
  kind: 'webhook' | 'publish' | 'function' | 'workflow';
  destination: Destination;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
  nextAttemptAt: string | null;
  deadline: string;
  lastError: string | null;
  /** A function destination's task. */
  resultTaskId: string | null;
  /** A workflow destination's execution. */
  resultExecutionId: string | null;
  createdAt: string;
  endedAt: string | null;
}

/** A workflow as the API shows it; `version` (its newest, with the definition) where one was asked for. */
export interface WorkflowInfo {
  id: string;
  name: string;
  description: string;
  latestVersion: number;
  version?: WorkflowVersionInfo;
  createdAt: string;
  updatedAt: string;
}

export interface WorkflowVersionInfo {
  id: string;
  number: number;
  definition: StateMachine;
  createdAt: string;
}

export interface ExecutionInfo {
  id: string;
  workflowId: string;
  versionId: string;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: WorkflowError | null;
  /** The steps it is in now: tasks, waits, retries' back-offs, branches, maps. */
  currentSteps: { key: string; state: string; kind: string }[];
  /** States left (or failed) so far. */
  stepsDone: number;
  idempotencyKey: string | null;
  timeoutAt: string | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface HistoryEntryInfo {
  seq: number;
  at: string;
  type: HistoryType;
  key: string | null;
  state: string | null;
  taskId: string | null;
  detail: unknown;
}

/** A task an execution started, under its step. */
export interface ExecutionTaskInfo {
  key: string;
  state: string;
  taskId: string;
  status: TaskStatus | null;
  attempt: number | null;
  error: TaskError | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
