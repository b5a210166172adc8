import type { AssetTransfer, OutputFileTerms } from './assets.js';
import type { AttemptOutcome } from './completion.js';
import type { GpuDevice } from './gpu-spec.js';
import type { InstanceRecord, LeaseReport, TaskLogLine, TaskProgress, TaskRecord, TaskRef, VersionRecord } from './types.js';

/** An instance the control plane placed on a node, with the immutable version it runs. */
export interface InstanceAssignment {
  instance: InstanceRecord;
  version: VersionRecord;
}

/** Leases an agent holds, per instance, reported on each heartbeat. */
export interface HeldLeases {
  instanceId: string;
  tasks: TaskRef[];
}

/** An instance asking for work for its free slots. */
export interface ClaimRequest {
  instanceId: string;
  versionId: string;
  /** Free slots: at most this many tasks are leased. */
  limit: number;
  /** Tasks the instance runs now; an instance with none is idle and is served first. */
  running: number;
  /** How long to wait for work when none is queued. */
  waitMs: number;
}

/** What the control plane pushes to an agent between heartbeats. */
export interface AgentNotifications {
  /** The node's set of assigned instances (or their states) changed. */
  assignmentsChanged(): void;
  /** A running task should stop. */
  cancel(ref: TaskRef): void;
}

/**
 * How an agent talks to the control plane. The in-process agent is given the control plane's
 * gateway directly; a remote agent gets an HTTP client with the same shape. Agents pull work
 * (claim) only for free slots, so nothing has to reach them through NAT.
 */
export interface AgentProtocol {
  /** Registers a node at agent start; anything the store thought ran there is taken back. */
  registerNode(node: { id: string; name: string; gpus: GpuDevice[] }): Promise<void>;
  /** Live instances placed on the node. */
  assignments(nodeId: string): Promise<InstanceAssignment[]>;
  /** Adds an entry to an instance's events (what its runtime is doing while it starts). */
  instanceEvent(instanceId: string, message: string): Promise<void>;
  /** Reports an instance that became ready, stopped, or failed (with the reason). */
  instanceState(instanceId: string, to: 'IDLE' | 'STOPPED' | 'FAILED', reason: string | null): Promise<void>;
  /**
   * Leases up to `limit` tasks to a ready instance, waiting up to `waitMs` for work. Idle
   * instances are served before busy ones.
   */
  claim(request: ClaimRequest, signal?: AbortSignal): Promise<TaskRecord[]>;
  /**
   * Renews the node's leases; says which tasks to cancel and which are no longer held. Throws
   * NODE_LOST when the node was declared lost (or is unknown): the agent must drop its work and
   * register again.
   */
  heartbeat(nodeId: string, held: HeldLeases[]): Promise<LeaseReport>;
  progress(ref: TaskRef, progress: TaskProgress): Promise<void>;
  /**
   * Where to fetch the input assets of a running attempt, with fresh pre-signed URLs. Throws
   * TASK_NOT_FOUND unless the attempt is the task's current, leased one.
   */
  inputAssets(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>): Promise<AssetTransfer[]>;
  /**
   * Creates an output asset of a running attempt, PENDING until its bytes are PUT to `uploadUrl`
   * (pre-signed; relative for the blobs Ferry serves itself). Throws TASK_NOT_FOUND unless the
   * attempt is the task's current, leased one.
   */
  createOutputAsset(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>, file: OutputFileTerms): Promise<{ id: string; uploadUrl: string }>;
  logs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void>;
  /**
   * Records the end of an attempt; a stale attempt's result is ignored. With `next`, also leases
   * the instance's next tasks in the same step (without waiting) and returns them: the slot the
   * attempt frees is refilled without a claim of its own.
   */
  complete(ref: TaskRef, outcome: AttemptOutcome, next?: ClaimRequest): Promise<TaskRecord[]>;
  /** Subscribes to pushes for a node; returns the unsubscribe function. */
  subscribe(nodeId: string, listener: AgentNotifications): () => void;
}
