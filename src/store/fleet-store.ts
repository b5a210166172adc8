import type { NodeState, StoredInstanceState } from '../core/states.js';
import type { InstanceRecord, NodeRecord } from '../core/types.js';
import type { ReclaimedTask } from './task-queue.js';

export interface InstanceFilter {
  tenantId?: string;
  functionId?: string;
  nodeId?: string;
  versionId?: string;
  states?: StoredInstanceState[];
}

/** The fleet: nodes (machines with an agent) and the instances placed on them. */
export interface FleetStore {
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
}
