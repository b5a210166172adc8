import type { OutputAssetRef } from './assets.js';
import type { TenantQuotas } from './rate-limits.js';
import type { Destinations } from './destinations.js';
import type { GpuDevice } from './gpu-spec.js';
import type { RuntimeType } from './runtime-types.js';
import type { DeploymentState, NodeState, Scope, StoredInstanceState, TaskStatus, TaskType } from './states.js';

/** What a version runs and how: immutable once created. */
export interface VersionSpec {
  /** The task type used when a task names none: server → query, job → command. */
  mode: 'server' | 'job';
  runtime: {
    type: RuntimeType;
    command?: string[];
    cwd?: string;
    env?: Record<string, string>;
    image?: string;
    /** docker only: when the image is pulled (default IfNotPresent). */
    pullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
  };
  init?: string[];
  server?: { inferencePath: string; healthPath: string; startupTimeoutSeconds: number };
  job?: { command: string[]; output: 'file' | 'lastStdoutLine' };
  resources: { gpus: number; gpuType?: string; gpuMemoryMiB?: number; cpus?: number; memoryMiB?: number };
  concurrency: number;
  timeoutSeconds: number;
  maxQueuedSeconds: number;
  retries: number;
  stopGraceSeconds: number;
  /** Where its tasks' outcomes go, unless a task or its trigger says otherwise. */
  destinations?: Destinations;
}

export interface Tenant {
  id: string;
  name: string;
  /** The tenant created at first start; its admins may create other tenants. */
  system: boolean;
  /** Its rates, as a system admin set them (none: no limit). */
  quotas: TenantQuotas;
  createdAt: number;
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  scope: Scope;
  /** sha256 of the secret, hex; the secret itself is never stored. */
  hash: string;
  /** The secret's first characters, to tell keys apart in a list (null for keys made before it was kept). */
  prefix: string | null;
  createdAt: number;
  /** Past this it answers 401 KEY_EXPIRED; null: never. */
  expiresAt: number | null;
  /** Once set it answers 401 KEY_REVOKED. */
  revokedAt: number | null;
  /** When it last authenticated a request (to within a minute). */
  lastUsedAt: number | null;
}

export interface FunctionRecord {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  tags: string[];
  createdAt: number;
}

export interface VersionRecord {
  id: string;
  tenantId: string;
  functionId: string;
  /** 1, 2, 3… within the function. */
  number: number;
  spec: VersionSpec;
  createdAt: number;
}

export interface ScalingSettings {
  minInstances: number;
  maxInstances: number;
  targetPerInstance: number;
  scaleDownDelaySeconds: number;
  scaleToZeroAfterSeconds: number;
}

export interface DeploymentRecord extends ScalingSettings {
  tenantId: string;
  functionId: string;
  versionId: string;
  state: DeploymentState;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeploymentEvent {
  versionId: string;
  at: number;
  kind: 'deployment' | 'instance' | 'scaling';
  subject: string;
  from: string | null;
  to: string;
  reason: string;
}

/** A deployment's load at one moment, as its autoscaler saw it: for the timeline of queue and instances. */
export interface LoadSample {
  versionId: string;
  at: number;
  queued: number;
  running: number;
  /** Serving instances (starting, idle or busy; not draining). */
  instances: number;
  /** What the scaling policy wanted then. */
  desired: number;
}

/** A deployment event as the fleet-wide stream shows it: numbered in the order written, with its function. */
export interface FleetEvent extends DeploymentEvent {
  seq: number;
  functionId: string;
}

export interface NodeRecord {
  id: string;
  name: string;
  gpus: GpuDevice[];
  state: NodeState;
  lastSeenAt: number;
  createdAt: number;
}

/** A device (or a share of one) given to an instance. */
export interface GpuAssignment {
  index: number;
  type: string;
  /** Set for a fractional share; absent when the instance has the whole device. */
  memoryMiB?: number;
}

export interface InstanceRecord {
  id: string;
  tenantId: string;
  functionId: string;
  versionId: string;
  nodeId: string;
  state: StoredInstanceState;
  gpus: GpuAssignment[];
  reason: string | null;
  createdAt: number;
  readyAt: number | null;
  endedAt: number | null;
}

/** What a client asks for when it submits a task (`POST /v1/tasks`). */
export interface SubmitRequest {
  /** Function id or name. */
  functionId: string;
  /** A version of it; by default one of its deployed versions, at random. */
  versionId?: string;
  input?: unknown;
  taskType?: TaskType;
  priority?: number;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  /** READY assets of the tenant the attempt finds in its input-assets directory, named by id. */
  inputAssets?: string[];
  /** Where the outcome goes, over the version's destinations. */
  destinations?: Destinations;
}

export interface TaskError {
  code: string;
  message: string;
  exitCode?: number;
  httpStatus?: number;
}

export interface TaskRecord {
  id: string;
  tenantId: string;
  functionId: string;
  versionId: string;
  taskType: TaskType;
  status: TaskStatus;
  priority: number;
  input: unknown;
  /** Asset ids the task holds as inputs (none: an empty list). */
  inputAssets: string[];
  /** A JSON value; or, with `outputType`, a server-mode response's text (see core/outputs.ts). */
  output: unknown;
  /** The MIME type of a server-mode response kept as it was given; null for a JSON value. */
  outputType: string | null;
  /** Files the attempt that succeeded left, as assets; `outputAsset` the one that is the output itself. */
  outputAssets: OutputAssetRef[];
  outputAsset: string | null;
  /** Its own destinations (a submit's or a trigger's), over its version's; null for none. */
  destinations: Destinations | null;
  error: TaskError | null;
  progress: number;
  progressMessage: string | null;
  partialOutput: unknown;
  attempt: number;
  maxAttempts: number;
  lostAttempts: number;
  timeoutSeconds: number;
  instanceId: string | null;
  nodeId: string | null;
  idempotencyKey: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Not before this time (retry back-off). */
  runAt: number;
  /** A queued task expires at this time. */
  expiresAt: number;
}

/** A task an instance has claimed: what the agent needs to run one attempt. */
export interface TaskRef {
  id: string;
  attempt: number;
}

export interface TaskLogLine {
  seq: number;
  attempt: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: number;
}

export interface TaskProgress {
  progress: number;
  message?: string | null;
  partialOutput?: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface LeaseReport {
  /** Tasks whose lease was renewed but whose cancellation was asked for. */
  cancel: TaskRef[];
  /** Tasks this holder no longer has (lease lost, re-queued or finished elsewhere). */
  lost: TaskRef[];
}
