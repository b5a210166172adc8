import type { DeploymentState } from '../core/states.js';
import type { DeploymentEvent, DeploymentRecord, FleetEvent, LoadSample } from '../core/types.js';

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

/** Deployments of versions, with their history: events and the autoscaler's load samples. */
export interface DeploymentStore {
  /** Creates or replaces the deployment of a version. */
  putDeployment(deployment: DeploymentRecord): Promise<void>;
  getDeployment(tenantId: string, versionId: string): Promise<DeploymentRecord | null>;
  /** Deployments across all tenants in the given states, for the reconciler. */
  listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]>;
  /** Moves a deployment's state, returning false when it was not in one of `from`. */
  setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean>;
  addDeploymentEvent(event: DeploymentEvent): Promise<void>;
  listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]>;
  /** The highest deployment event sequence number so far (0 when none): where a follower of only what comes next starts. */
  lastFleetEventSeq(): Promise<number>;
  /** The events of a tenant's deployments after a sequence number, oldest first, for the fleet-wide stream. */
  listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]>;
  /** Records a deployment's load at a moment, for its timeline. */
  addLoadSample(sample: LoadSample): Promise<void>;
  /** A version's load samples taken at or after `since`, oldest first, at most `limit` (the newest ones when there are more). */
  listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]>;
  /** Deletes load samples taken before `before`; returns how many went. */
  pruneLoadSamples(before: number): Promise<number>;
}
