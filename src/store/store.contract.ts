import { describe } from 'vitest';
import { assetStoreContract } from './asset-store.contract.js';
import { catalogStoreContract } from './catalog-store.contract.js';
import { deliveryStoreContract } from './delivery-store.contract.js';
import { deploymentStoreContract } from './deployment-store.contract.js';
import { type ManualClock, useContractFixture } from './fixture.contract.js';
import { fleetStoreContract } from './fleet-store.contract.js';
import { outcomeFeedContract } from './outcome-feed.contract.js';
import type { Store } from './store.js';
import { taskQueueContract } from './task-queue.contract.js';
import { tenantStoreContract } from './tenant-store.contract.js';
import { triggerStoreContract } from './trigger-store.contract.js';
import { workflowStoreContract } from './workflow-store.contract.js';

/**
 * The store contract: every adapter must pass it unchanged (STYLE.md 2), one part per slice.
 * `makeStore` gets a clock the suite controls and returns a fresh, empty store.
 */
export function runStoreContract(name: string, makeStore: (clock: ManualClock) => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    const fx = useContractFixture(makeStore);
    tenantStoreContract(fx);
    catalogStoreContract(fx);
    deploymentStoreContract(fx);
    fleetStoreContract(fx);
    taskQueueContract(fx);
    outcomeFeedContract(fx);
    assetStoreContract(fx);
    triggerStoreContract(fx);
    deliveryStoreContract(fx);
    workflowStoreContract(fx);
  });
}
