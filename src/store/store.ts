import type { AttemptOutcome } from '../core/completion.js';
import type { DeploymentState, NodeState, StoredInstanceState, TaskStatus } from '../core/states.js';
import type {
  ApiKey,
  DeploymentEvent,
  DeploymentRecord,
  FleetEvent,
  LoadSample,
  FunctionRecord,
  InstanceRecord,
  LeaseReport,
  NodeRecord,
  Page,
  TaskLogLine,
  TaskProgress,
  TaskRecord,
  TaskRef,
  Tenant,
  VersionRecord,
} from '../core/types.js';

export interface PageRequest {
  limit: number;
  cursor?: string | null;
}

export interface TaskFilter {
  functionId?: string;
  versionId?: string;
  statuses?: TaskStatus[];
  createdAfter?: number;
  createdBefore?: number;
}

export interface DeploymentFilter {
  states?: DeploymentState[];
  functionId?: string;
  versionId?: string;
  tenantId?: string;
}

export interface FleetEventFilter {
  /** Only events written after this sequence number (0: from the first). */
  afterSeq: number;
  functionId?: string;
  versionId?: string;
}

export interface InstanceFilter {
  tenantId?: string;
  functionId?: string;
  nodeId?: string;
  versionId?: string;
  states?: StoredInstanceState[];
}

/** Queued and leased counts of one version (or of a function's versions), for scaling and `/queue`. */
export interface QueueCounts {
  queued: number;
  running: number;
  byStatus: Partial<Record<TaskStatus, number>>;
}

export interface NewTask {
  task: TaskRecord;
  /** Hash of what was asked, so a reused idempotency key with other content is refused. */
  requestHash: string | null;
}

/** `claimed`: what the claim that came with a new task leased (see `enqueueTask`). */
export type EnqueueResult = { created: true; task: TaskRecord; claimed: TaskRecord[] } | { created: false; task: TaskRecord; sameRequest: boolean };

export interface ClaimRequest {
  instanceId: string;
  limit: number;
  leaseMs: number;
}

export interface CompleteResult {
  /** False when the attempt is not the task's current leased attempt (a late or stale result). */
  accepted: boolean;
  task: TaskRecord | null;
  /** Tasks leased by the claim that came with the completion (see `completeTask`). */
  claimed: TaskRecord[];
}

/** A task taken back from a dead lease or instance. */
export interface ReclaimedTask {
  task: TaskRecord;
  /** The status it moved to: QUEUED for another attempt, or a terminal one. */
  status: TaskStatus;
  /** The attempt that was taken back, and the instance that held it. */
  taken: { attempt: number; instanceId: string | null };
}

/**
 * The store port: all persistent state of Ferry, in domain words. Adapters (SQLite, PostgreSQL)
 * keep their locking and SQL inside; every method is atomic on its own. Times are epoch
 * milliseconds; lease and queue times are judged by the store's own clock.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** The store's clock, which judges leases. */
  now(): Promise<number>;
  /** Cheap liveness check for `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Creates a tenant with its first API key, atomically. Throws TENANT_EXISTS on a taken name. */
  createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  countTenants(): Promise<number>;
  createApiKey(key: ApiKey): Promise<void>;
  findApiKey(hash: string): Promise<ApiKey | null>;

  /** Creates a function with its first version. Throws FUNCTION_EXISTS on a taken name. */
  createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord>;
  /** By id (`fn_…`) or by name, within the tenant. */
  getFunction(tenantId: string, idOrName: string): Promise<FunctionRecord | null>;
  listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>>;
  /** Deletes a function, its versions and deployments; refused (FUNCTION_DEPLOYED) while any deployment serves. */
  deleteFunction(tenantId: string, functionId: string): Promise<void>;

  /** Adds a version; its number is the next in the function. */
  addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord>;
  getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null>;
  listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>>;
  /** Refused (VERSION_DEPLOYED) while its deployment serves. */
  deleteVersion(tenantId: string, versionId: string): Promise<void>;

  /** Creates or replaces the deployment of a version. */
  putDeployment(deployment: DeploymentRecord): Promise<void>;
  getDeployment(tenantId: string, versionId: string): Promise<DeploymentRecord | null>;
  /** Deployments across all tenants in the given states, for the reconciler. */
  listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]>;
  /** Moves a deployment's state, returning false when it was not in one of `from`. */
  setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean>;
  addDeploymentEvent(event: DeploymentEvent): Promise<void>;
  listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]>;
  /** Records a deployment's load at a moment, for its timeline. */
  addLoadSample(sample: LoadSample): Promise<void>;
  /** A version's load samples taken at or after `since`, oldest first, at most `limit` (the newest ones when there are more). */
  listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]>;
  /** Deletes load samples taken before `before`; returns how many went. */
  pruneLoadSamples(before: number): Promise<number>;
  /** The highest deployment event sequence number so far (0 when none): where a follower of only what comes next starts. */
  lastFleetEventSeq(): Promise<number>;
  /** The events of a tenant's deployments after a sequence number, oldest first, for the fleet-wide stream. */
  listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]>;

  /** Registers or refreshes a node (its GPUs may change between starts). */
  upsertNode(node: NodeRecord): Promise<void>;
  getNode(id: string): Promise<NodeRecord | null>;
  listNodes(): Promise<NodeRecord[]>;
  /**
   * Records a heartbeat of a READY node. A LOST node stays LOST: its agent must register again,
   * so work it still holds from before is never taken for current. Returns the node's state, or
   * null when the node is unknown.
   */
  touchNode(id: string): Promise<NodeState | null>;
  /**
   * Declares READY nodes not seen since `seenBefore` LOST and fails their live instances, so the
   * reconciler replaces them elsewhere. Their leased tasks stay leased until the leases expire:
   * a node that is only cut off may still be running them.
   */
  markLostNodes(seenBefore: number, reason: string): Promise<{ nodes: NodeRecord[]; instances: InstanceRecord[] }>;

  createInstance(instance: InstanceRecord): Promise<void>;
  getInstance(id: string): Promise<InstanceRecord | null>;
  listInstances(filter: InstanceFilter): Promise<InstanceRecord[]>;
  /** Moves an instance if it is in one of `from`; returns the updated record or null. */
  moveInstance(id: string, from: StoredInstanceState[], to: StoredInstanceState, reason: string | null): Promise<InstanceRecord | null>;
  /** Leased tasks per instance, for BUSY and for idle-first decisions. */
  countLeasedTasks(instanceIds: string[]): Promise<Map<string, number>>;
  /**
   * Ends every live instance of a node (its agent restarted or was lost) and takes back their
   * leased tasks at once, without waiting for leases to expire.
   */
  failNodeInstances(nodeId: string, reason: string): Promise<{ instances: InstanceRecord[]; tasks: ReclaimedTask[] }>;

  /**
   * Stores a task durably, or returns the earlier task of the same idempotency key. With
   * `claimFor` (an instance waiting for work), a new task's version is claimed for that instance
   * in the same transaction, so the enqueue also hands out the head of the queue: usually the new
   * task itself, which `task` then shows leased.
   */
  enqueueTask(newTask: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult>;
  getTask(tenantId: string, taskId: string): Promise<TaskRecord | null>;
  listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>>;
  /** Number of claimable tasks ahead of a queued task in its version's queue (0 = next). */
  taskPosition(task: TaskRecord): Promise<number>;
  /**
   * Leases up to `limit` runnable tasks of the instance's version to it, highest priority then
   * oldest first, as the next attempt. Claims nothing unless the instance is IDLE.
   */
  claimTasks(request: ClaimRequest): Promise<TaskRecord[]>;
  /** Extends the leases the instance still holds and says which to cancel and which are lost. */
  renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport>;
  /** Records progress of the current attempt; ignored for any other attempt. */
  reportProgress(ref: TaskRef, progress: TaskProgress): Promise<boolean>;
  appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void>;
  getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]>;
  /**
   * Records the end of an attempt (see core/completion.ts); stale attempts are refused. With
   * `next`, the instance's next tasks are claimed in the same transaction, the slot it frees
   * refilled with one commit instead of two; the claim happens whether or not the result is taken.
   */
  completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult>;
  /**
   * Cancels a task: a queued one ends CANCELLED at once, a leased one moves to CANCELLING until its
   * agent reports. Returns null when the task does not exist in the tenant; `previous` is the
   * status it had, so a caller can tell a fresh cancel from one of a task already ended.
   */
  requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null>;
  /** Takes back tasks whose lease expired: another attempt, or FAILED when none is left. */
  reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]>;
  /** Moves queued tasks past their `expiresAt` to EXPIRED. */
  expireQueuedTasks(limit: number): Promise<TaskRecord[]>;
  /** Puts back in the queue (or cancels) the leased tasks of the given instances. */
  releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]>;
  queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts>;
  /**
   * Queued and leased counts of one version, for the autoscaler. Unlike `queueCounts` it reads
   * only live tasks, never the version's history, so its cost does not grow as tasks finish.
   */
  versionLoad(versionId: string): Promise<{ queued: number; running: number }>;
  /** Earliest `runAt` of the version's queued tasks that are not yet runnable, for wake-ups. */
  nextRunAt(versionId: string): Promise<number | null>;
}
