import type { DeploymentView, InstanceView } from '../control/deployments-service.js';
import type { DeviceAllocation } from '../control/fleet-service.js';
import type { TaskView } from '../control/tasks-service.js';
import type { AssetRecord } from '../core/assets.js';
import type { AuditEntry } from '../core/audit.js';
import type { DeliveryAttempt, DeliveryRecord, Destination, Destinations } from '../core/destinations.js';
import type { TriggerRecord } from '../core/triggers.js';
import type { TriggerFire } from '../store/trigger-store.js';
import { ID_PREFIX } from '../core/ids.js';
import { outputValue } from '../core/outputs.js';
import { currentSteps } from '../core/workflows/interpreter.js';
import type { ExecutionRecord, ExecutionTask, HistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../core/workflows/workflow.js';
import type { ApiKey, FleetEvent, FunctionRecord, LoadSample, NodeRecord, TaskLogLine, TaskRecord, VersionRecord } from '../core/types.js';

/** How records look on the wire: ISO timestamps, no tenant or internal scheduling fields. */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function functionJson(f: FunctionRecord) {
  return { id: f.id, name: f.name, description: f.description, tags: f.tags, createdAt: iso(f.createdAt) };
}

export function versionJson(v: VersionRecord) {
  return { id: v.id, functionId: v.functionId, number: v.number, ...v.spec, ...(v.spec.destinations ? { destinations: destinationsJson(v.spec.destinations) } : {}), createdAt: iso(v.createdAt) };
}

/** A task; `detail` adds input and output (single reads), lists leave them out. */
export function taskJson(t: TaskView | TaskRecord, detail: boolean) {
  return {
    id: t.id,
    functionId: t.functionId,
    versionId: t.versionId,
    taskType: t.taskType,
    status: t.status,
    priority: t.priority,
    progress: t.progress,
    progressMessage: t.progressMessage,
    partialOutput: t.partialOutput,
    ...('position' in t && t.position !== undefined ? { position: t.position } : {}),
    attempt: t.attempt,
    maxAttempts: t.maxAttempts,
    timeoutSeconds: t.timeoutSeconds,
    instanceId: t.instanceId,
    nodeId: t.nodeId,
    idempotencyKey: t.idempotencyKey,
    createdAt: iso(t.createdAt),
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
    expiresAt: iso(t.expiresAt),
    inputAssets: t.inputAssets,
    outputAssets: t.outputAssets,
    ...(detail ? { input: t.input, output: outputValue(t), destinations: t.destinations && destinationsJson(t.destinations) } : {}),
    error: t.error,
  };
}

export function logLineJson(l: TaskLogLine) {
  return { seq: l.seq, attempt: l.attempt, stream: l.stream, text: l.text, at: iso(l.at) };
}

export function loadSampleJson(s: LoadSample) {
  return { at: iso(s.at), queued: s.queued, running: s.running, instances: s.instances, desired: s.desired };
}

export function fleetEventJson(e: FleetEvent) {
  return { seq: e.seq, functionId: e.functionId, versionId: e.versionId, at: iso(e.at), kind: e.kind, subject: e.subject, from: e.from, to: e.to, reason: e.reason };
}

export function instanceJson(i: InstanceView) {
  return {
    id: i.id,
    functionId: i.functionId,
    versionId: i.versionId,
    nodeId: i.nodeId,
    state: i.state,
    gpus: i.gpus,
    activeTasks: i.activeTasks,
    reason: i.reason,
    createdAt: iso(i.createdAt),
    readyAt: iso(i.readyAt),
    endedAt: iso(i.endedAt),
  };
}

export function deploymentJson(d: DeploymentView) {
  return {
    functionId: d.functionId,
    versionId: d.versionId,
    state: d.state,
    reason: d.reason,
    minInstances: d.minInstances,
    maxInstances: d.maxInstances,
    targetPerInstance: d.targetPerInstance,
    scaleDownDelaySeconds: d.scaleDownDelaySeconds,
    scaleToZeroAfterSeconds: d.scaleToZeroAfterSeconds,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    instances: d.instances.map(instanceJson),
    events: d.events.map((e) => ({ at: iso(e.at), kind: e.kind, subject: e.subject, from: e.from, to: e.to, reason: e.reason })),
  };
}

export function nodeJson(n: NodeRecord, allocated: Map<number, DeviceAllocation>) {
  return {
    id: n.id,
    name: n.name,
    state: n.state,
    lastSeenAt: iso(n.lastSeenAt),
    gpus: n.gpus.map((g) => {
      const a = allocated.get(g.index);
      return { index: g.index, type: g.type, memoryMiB: g.memoryMiB, allocated: a?.whole ? 'whole' : a ? 'shared' : 'free', allocatedMemoryMiB: a?.whole ? g.memoryMiB : (a?.memoryMiB ?? 0) };
    }),
  };
}

export function assetJson(a: AssetRecord) {
  return {
    id: a.id,
    status: a.status,
    contentType: a.contentType,
    description: a.description,
    sizeBytes: a.sizeBytes,
    sha256: a.sha256,
    taskId: a.taskId,
    name: a.name,
    pinned: a.pinned,
    createdAt: iso(a.createdAt),
    readyAt: iso(a.readyAt),
    // `expiresAt` in an answer is its URL's; the asset's own end is `keepUntil` (null: pinned).
    keepUntil: a.pinned ? null : iso(a.expiresAt),
  };
}

/** A trigger; its secret (a webhook trigger's) only where `withSecret` (its creation, for its owner to copy). */
export function triggerJson(t: TriggerRecord, nextFires: number[], withSecret: boolean) {
  const parts =
    t.kind === 'cron'
      ? { schedule: t.cron.schedule, timezone: t.cron.timezone, catchUp: t.cron.catchUp, nextFires: nextFires.map((ms) => iso(ms)) }
      : t.kind === 'webhook'
        ? { hookPath: `/v1/hooks/${t.id}`, ...(withSecret ? { secret: t.webhook.secret } : {}) }
        : t.kind === 'asset'
          ? { filter: t.filter }
          : { source: t.source };
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    functionId: t.functionId,
    workflowId: t.workflowId,
    versionId: t.versionId,
    ...parts,
    task: t.task,
    destinations: t.destinations && destinationsJson(t.destinations),
    state: t.state,
    lastFiredAt: iso(t.lastFiredAt),
    lastError: t.lastError,
    fired: t.fired,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

/** A fire, with what it started: a task, or (a trigger of a workflow) an execution, told apart by the id's prefix. */
export function triggerFireJson(f: TriggerFire) {
  const started = f.taskId.startsWith(`${ID_PREFIX.execution}_`) ? { executionId: f.taskId } : { taskId: f.taskId };
  return { eventKey: f.eventKey, ...started, at: iso(f.at) };
}

/** A webhook secret is written, never read back: shown as its first characters. */
const hidden = (secret: string): string => `${secret.slice(0, 6)}…`;

function destinationJson(d: Destination): Destination {
  return d.webhook ? { webhook: { url: d.webhook.url, secret: hidden(d.webhook.secret) } } : d;
}

export function destinationsJson(d: Destinations): Destinations {
  return { ...d, ...(d.onSuccess ? { onSuccess: destinationJson(d.onSuccess) } : {}), ...(d.onFailure ? { onFailure: destinationJson(d.onFailure) } : {}) };
}

export function deliveryJson(d: DeliveryRecord, attempts: DeliveryAttempt[]) {
  return {
    id: d.id,
    taskId: d.taskId,
    event: d.event,
    kind: d.kind,
    destination: destinationJson(d.destination),
    status: d.status,
    attempts: attempts.map((a) => ({ at: iso(a.at), statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
    nextAttemptAt: iso(d.nextAttemptAt),
    deadline: iso(d.deadline),
    lastError: d.lastError,
    resultTaskId: d.resultTaskId,
    resultExecutionId: d.resultExecutionId,
    createdAt: iso(d.createdAt),
    endedAt: iso(d.endedAt),
  };
}

export function workflowJson(w: WorkflowRecord, version?: WorkflowVersionRecord) {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    latestVersion: w.latestVersion,
    ...(version ? { version: workflowVersionJson(version) } : {}),
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
  };
}

export function workflowVersionJson(v: WorkflowVersionRecord) {
  return { id: v.id, number: v.number, definition: v.definition, createdAt: iso(v.createdAt) };
}

export function executionJson(e: ExecutionRecord) {
  return {
    id: e.id,
    workflowId: e.workflowId,
    versionId: e.versionId,
    status: e.status,
    input: e.input,
    output: e.output,
    error: e.error,
    currentSteps: currentSteps(e.state),
    stepsDone: e.stepsDone,
    idempotencyKey: e.idempotencyKey,
    timeoutAt: iso(e.timeoutAt),
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
    endedAt: iso(e.endedAt),
  };
}

export function historyEntryJson(h: HistoryEntry) {
  return { seq: h.seq, at: iso(h.at), type: h.type, key: h.key, state: h.state, taskId: h.taskId, detail: h.detail };
}

export function executionTaskJson(step: ExecutionTask, task: TaskRecord | null) {
  return {
    key: step.key,
    state: step.state,
    taskId: step.taskId,
    status: task?.status ?? null,
    attempt: task?.attempt ?? null,
    error: task?.error ?? null,
    createdAt: iso(step.createdAt),
    startedAt: iso(task?.startedAt ?? null),
    finishedAt: iso(task?.finishedAt ?? null),
  };
}

/** An API key as its tenant's admins see it: never its secret or hash. */
export function keyJson(k: ApiKey) {
  return { id: k.id, name: k.name, scope: k.scope, prefix: k.prefix, createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt), expiresAt: iso(k.expiresAt), revokedAt: iso(k.revokedAt) };
}

export function auditJson(e: AuditEntry) {
  return { seq: e.seq, at: iso(e.at), keyId: e.keyId, action: e.action, resource: JSON.parse(e.resource) as unknown, source: e.source, status: e.status };
}
