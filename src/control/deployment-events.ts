import type { DeploymentEvent } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Wakeups } from './wakeups/wakeups.js';

/** Writes a deployment event and wakes the followers of the fleet's events, in every replica. */
export async function recordDeploymentEvent(store: Pick<Store, 'deployments'>, wakeups: Wakeups, event: DeploymentEvent): Promise<void> {
  await store.deployments.addDeploymentEvent(event);
  wakeups.emit({ kind: 'fleet' });
}
