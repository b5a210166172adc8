import type { DeploymentEvent } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { ControlEvents } from './events.js';

/** Writes a deployment event and wakes the followers of the fleet's events, in every replica. */
export async function recordDeploymentEvent(store: Store, events: ControlEvents, event: DeploymentEvent): Promise<void> {
  await store.deployments.addDeploymentEvent(event);
  events.fleetChanged();
}
