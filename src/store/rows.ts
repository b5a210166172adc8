import type { AssetRecord, AssetStatus } from '../core/assets.js';
import type { AuditEntry } from '../core/audit.js';
import type { DeliveryAttempt, DeliveryRecord, Destinations } from '../core/destinations.js';
import type { TaskTemplate, TriggerConfig, TriggerParts, TriggerRecord, TriggerState } from '../core/triggers.js';
import type { ExecutionRecord, ExecutionTask, HistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../core/workflows/workflow.js';
import type { GpuDevice } from '../core/gpu-spec.js';
import { type TaskOutcome, outcomeId } from '../core/outcomes.js';
import type { DeploymentState, NodeState, Scope, StoredInstanceState, TaskStatus, TaskType } from '../core/states.js';
import type { ApiKey, DeploymentEvent, DeploymentRecord, FleetEvent, FunctionRecord, LoadSample, InstanceRecord, NodeRecord, TaskRecord, Tenant, VersionRecord } from '../core/types.js';

/**
 * Rows of the store's tables and their mapping to domain records, the same for both adapters:
 * times are epoch-millisecond integers and JSON columns are text, in SQLite and in PostgreSQL.
 */
type Row = Record<string, unknown>;

/** A JSON column's text; null for an absent value. */
export const encodeJson = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

const json = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(v as string));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const toAuditEntry = (r: Row): AuditEntry => ({
  seq: Number(r.seq),
  tenantId: r.tenant_id as string,
  at: Number(r.at),
  keyId: (r.key_id as string | null) ?? null,
  action: r.action as string,
  resource: r.resource as string,
  source: r.source as string,
  status: Number(r.status),
});

export const toTenant = (r: Row): Tenant => ({
  id: r.id as string,
  name: r.name as string,
  system: r.system === 1 || r.system === true,
  quotas: JSON.parse((r.quotas as string | undefined) ?? '{}') as Tenant['quotas'],
  createdAt: Number(r.created_at),
});

export const toApiKey = (r: Row): ApiKey => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  name: r.name as string,
  scope: r.scope as Scope,
  hash: r.hash as string,
  prefix: (r.prefix as string | null) ?? null,
  createdAt: Number(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: num(r.revoked_at),
  lastUsedAt: num(r.last_used_at),
});

export const toFunction = (r: Row): FunctionRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  name: r.name as string,
  description: r.description as string,
  tags: json(r.tags) as string[],
  createdAt: Number(r.created_at),
});

export const toVersion = (r: Row): VersionRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  functionId: r.function_id as string,
  number: Number(r.number),
  spec: json(r.spec) as VersionRecord['spec'],
  createdAt: Number(r.created_at),
});

export const toDeployment = (r: Row): DeploymentRecord => ({
  tenantId: r.tenant_id as string,
  functionId: r.function_id as string,
  versionId: r.version_id as string,
  state: r.state as DeploymentState,
  reason: (r.reason as string | null) ?? null,
  minInstances: Number(r.min_instances),
  maxInstances: Number(r.max_instances),
  targetPerInstance: Number(r.target_per_instance),
  scaleDownDelaySeconds: Number(r.scale_down_delay_s),
  scaleToZeroAfterSeconds: Number(r.scale_to_zero_s),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export const toDeploymentEvent = (r: Row): DeploymentEvent => ({
  versionId: r.version_id as string,
  at: Number(r.at),
  kind: r.kind as DeploymentEvent['kind'],
  subject: r.subject as string,
  from: (r.from_state as string | null) ?? null,
  to: r.to_state as string,
  reason: r.reason as string,
});

export const toLoadSample = (r: Row): LoadSample => ({
  versionId: r.version_id as string,
  at: Number(r.at),
  queued: Number(r.queued),
  running: Number(r.running),
  instances: Number(r.instances),
  desired: Number(r.desired),
});

export const toFleetEvent = (r: Row): FleetEvent => ({ ...toDeploymentEvent(r), seq: Number(r.seq), functionId: r.function_id as string });

export const toNode = (r: Row): NodeRecord => ({
  id: r.id as string,
  name: r.name as string,
  gpus: json(r.gpus) as GpuDevice[],
  state: r.state as NodeState,
  lastSeenAt: Number(r.last_seen_at),
  createdAt: Number(r.created_at),
});

export const toInstance = (r: Row): InstanceRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  functionId: r.function_id as string,
  versionId: r.version_id as string,
  nodeId: r.node_id as string,
  state: r.state as StoredInstanceState,
  gpus: json(r.gpus) as InstanceRecord['gpus'],
  reason: (r.reason as string | null) ?? null,
  createdAt: Number(r.created_at),
  readyAt: num(r.ready_at),
  endedAt: num(r.ended_at),
});

export const toTask = (r: Row): TaskRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  functionId: r.function_id as string,
  versionId: r.version_id as string,
  taskType: r.task_type as TaskType,
  status: r.status as TaskStatus,
  priority: Number(r.priority),
  input: json(r.input),
  inputAssets: r.input_assets ? (JSON.parse(r.input_assets as string) as string[]) : [],
  destinations: json(r.destinations) as Destinations | null,
  // A response kept as given is its text; any other output is JSON (core/outputs.ts).
  output: r.output_type ? r.output : json(r.output),
  outputType: (r.output_type as string | null) ?? null,
  outputAssets: r.output_assets ? (JSON.parse(r.output_assets as string) as TaskRecord['outputAssets']) : [],
  outputAsset: (r.output_asset as string | null) ?? null,
  error: json(r.error) as TaskRecord['error'],
  progress: Number(r.progress),
  progressMessage: (r.progress_message as string | null) ?? null,
  partialOutput: json(r.partial_output),
  attempt: Number(r.attempt),
  maxAttempts: Number(r.max_attempts),
  lostAttempts: Number(r.lost_attempts),
  timeoutSeconds: Number(r.timeout_s),
  instanceId: (r.instance_id as string | null) ?? null,
  nodeId: (r.node_id as string | null) ?? null,
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  createdAt: Number(r.created_at),
  startedAt: num(r.started_at),
  finishedAt: num(r.finished_at),
  runAt: Number(r.run_at),
  expiresAt: Number(r.expires_at),
});

/** An outcome row; `position` is the adapter's (a seq, or a transaction id and a seq). */
export const toOutcome = (r: Row, position: string): TaskOutcome => ({
  id: outcomeId(r.task_id as string, Number(r.attempt)),
  position,
  taskId: r.task_id as string,
  tenantId: r.tenant_id as string,
  functionId: r.function_id as string,
  versionId: r.version_id as string,
  attempt: Number(r.attempt),
  status: r.status as TaskOutcome['status'],
  errorCode: (r.error_code as string | null) ?? null,
  createdAt: Number(r.created_at),
  startedAt: num(r.started_at),
  at: Number(r.at),
});

export const toAsset = (r: Row): AssetRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  status: r.status as AssetStatus,
  contentType: r.content_type as string,
  description: r.description as string,
  sizeBytes: num(r.size_bytes),
  sha256: (r.sha256 as string | null) ?? null,
  taskId: (r.task_id as string | null) ?? null,
  name: (r.name as string | null) ?? null,
  pinned: r.pinned === 1 || r.pinned === true,
  createdAt: Number(r.created_at),
  readyAt: num(r.ready_at),
  expiresAt: Number(r.expires_at),
});

/** The column that keeps a trigger's kind-specific part (its schedule, source, secret or filter). */
export function triggerConfigJson(t: TriggerParts): string {
  return JSON.stringify(t.cron ? { cron: t.cron } : t.source ? { source: t.source } : t.webhook ? { webhook: t.webhook } : { filter: t.filter ?? {} });
}

export const toTrigger = (r: Row): TriggerRecord =>
  ({
    id: r.id as string,
    tenantId: r.tenant_id as string,
    name: r.name as string,
    functionId: (r.function_id as string | null) ?? null,
    workflowId: (r.workflow_id as string | null) ?? null,
    versionId: (r.version_id as string | null) ?? null,
    kind: r.kind as TriggerRecord['kind'],
    ...(json(r.config) as Omit<TriggerConfig, 'kind'>),
    task: json(r.task) as TaskTemplate,
    destinations: json(r.destinations) as Destinations | null,
    state: r.state as TriggerState,
    lastFiredAt: num(r.last_fired_at),
    lastError: (r.last_error as string | null) ?? null,
    fired: Number(r.fired),
    cursor: (r.cursor as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  }) as TriggerRecord;

export const toDelivery = (r: Row): DeliveryRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  taskId: r.task_id as string,
  event: r.event as DeliveryRecord['event'],
  kind: r.kind as DeliveryRecord['kind'],
  destination: json(r.destination) as DeliveryRecord['destination'],
  payload: r.payload as string,
  depth: Number(r.depth),
  status: r.status as DeliveryRecord['status'],
  attempts: Number(r.attempts),
  nextAttemptAt: num(r.next_attempt_at),
  deadline: Number(r.deadline),
  lastError: (r.last_error as string | null) ?? null,
  lastStatusCode: num(r.last_status_code),
  resultTaskId: (r.result_task_id as string | null) ?? null,
  resultExecutionId: (r.result_execution_id as string | null) ?? null,
  createdAt: Number(r.created_at),
  endedAt: num(r.ended_at),
});

export const toDeliveryAttempt = (r: Row): DeliveryAttempt => ({ at: Number(r.at), statusCode: num(r.status_code), error: (r.error as string | null) ?? null, durationMs: Number(r.duration_ms) });

export const toWorkflow = (r: Row): WorkflowRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  name: r.name as string,
  description: r.description as string,
  latestVersion: Number(r.latest_version),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export const toWorkflowVersion = (r: Row): WorkflowVersionRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  workflowId: r.workflow_id as string,
  number: Number(r.number),
  definition: JSON.parse(r.definition as string) as WorkflowVersionRecord['definition'],
  createdAt: Number(r.created_at),
});

export const toExecution = (r: Row): ExecutionRecord => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  workflowId: r.workflow_id as string,
  versionId: r.version_id as string,
  status: r.status as ExecutionRecord['status'],
  input: JSON.parse(r.input as string),
  output: json(r.output),
  error: json(r.error) as ExecutionRecord['error'],
  state: JSON.parse(r.state as string) as ExecutionRecord['state'],
  rev: Number(r.rev),
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  requestHash: (r.request_hash as string | null) ?? null,
  stepsDone: Number(r.steps_done),
  timeoutAt: num(r.timeout_at),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  endedAt: num(r.ended_at),
});

export const toExecutionTask = (r: Row): ExecutionTask => ({
  executionId: r.execution_id as string,
  key: r.key as string,
  state: r.state as string,
  taskId: r.task_id as string,
  createdAt: Number(r.created_at),
});

export const toHistoryEntry = (r: Row): HistoryEntry => ({
  seq: Number(r.seq),
  executionId: r.execution_id as string,
  at: Number(r.at),
  type: r.type as HistoryEntry['type'],
  key: (r.key as string | null) ?? null,
  state: (r.state as string | null) ?? null,
  taskId: (r.task_id as string | null) ?? null,
  detail: json(r.detail),
  eventId: (r.event_id as string | null) ?? null,
});
