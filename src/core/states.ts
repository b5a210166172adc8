/**
 * Every status in Ferry and every allowed move between them. Status checks live here and only
 * here, so adapters and services agree on what "terminal" or "live" means.
 */
export const TASK_STATUSES = ['QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'EXPIRED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_TASK_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'EXPIRED'] as const satisfies readonly TaskStatus[];
export type TerminalTaskStatus = (typeof TERMINAL_TASK_STATUSES)[number];
/** Statuses in which a task holds a lease on an instance. */
export const LEASED_TASK_STATUSES = ['RUNNING', 'CANCELLING'] as const satisfies readonly TaskStatus[];

const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  QUEUED: ['RUNNING', 'CANCELLED', 'EXPIRED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLING', 'CANCELLED', 'QUEUED'],
  CANCELLING: ['CANCELLED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
  TIMED_OUT: [],
  EXPIRED: [],
};

export function isLeasedTask(status: TaskStatus): boolean {
  return (LEASED_TASK_STATUSES as readonly TaskStatus[]).includes(status);
}

export function isTerminalTask(status: TaskStatus): status is TerminalTaskStatus {
  return (TERMINAL_TASK_STATUSES as readonly TaskStatus[]).includes(status);
}

export function canMoveTask(from: TaskStatus, to: TaskStatus): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

export const INSTANCE_STATES = ['STARTING', 'IDLE', 'BUSY', 'DRAINING', 'STOPPED', 'FAILED'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];
/**
 * What the store keeps: BUSY is not stored but derived from the running-task count, so a claim
 * or a completion never has to write the instance row.
 */
export type StoredInstanceState = Exclude<InstanceState, 'BUSY'>;
export const LIVE_INSTANCE_STATES = ['STARTING', 'IDLE', 'DRAINING'] as const satisfies readonly StoredInstanceState[];

const INSTANCE_TRANSITIONS: Record<StoredInstanceState, readonly StoredInstanceState[]> = {
  STARTING: ['IDLE', 'DRAINING', 'STOPPED', 'FAILED'],
  IDLE: ['DRAINING', 'STOPPED', 'FAILED'],
  DRAINING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

export function canMoveInstance(from: StoredInstanceState, to: StoredInstanceState): boolean {
  return INSTANCE_TRANSITIONS[from].includes(to);
}

/** The states an instance may move to `to` from. */
export function instanceStatesBefore(to: StoredInstanceState): StoredInstanceState[] {
  return (Object.keys(INSTANCE_TRANSITIONS) as StoredInstanceState[]).filter((from) => canMoveInstance(from, to));
}

export const DEPLOYMENT_STATES = ['INACTIVE', 'DEPLOYING', 'ACTIVE', 'DEGRADED', 'ERROR'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];
/** Deployments that accept tasks and that the reconciler keeps instances for. */
export const SERVING_DEPLOYMENT_STATES = ['DEPLOYING', 'ACTIVE', 'DEGRADED', 'ERROR'] as const satisfies readonly DeploymentState[];

export function isServingDeployment(state: DeploymentState): boolean {
  return (SERVING_DEPLOYMENT_STATES as readonly DeploymentState[]).includes(state);
}

export const NODE_STATES = ['READY', 'LOST'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export const TASK_TYPES = ['query', 'command'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** API key scopes, each allowing all that the ones before it allow. */
export const SCOPES = ['read', 'invoke', 'admin'] as const;
/** The scope of node tokens: the agent routes and nothing else, which no API key reaches. */
export const NODE_SCOPE = 'node';
export type Scope = (typeof SCOPES)[number] | typeof NODE_SCOPE;

/** admin may do all that invoke may, invoke all that read may; a node token only what nodes do. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  if (held === NODE_SCOPE || needed === NODE_SCOPE) return held === needed;
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}
