import type { AssetStore } from './asset-store.js';
import type { CatalogStore } from './catalog-store.js';
import type { DeploymentStore } from './deployment-store.js';
import type { FleetStore } from './fleet-store.js';
import type { OutcomeFeed } from './outcome-feed.js';
import type { TaskQueue } from './task-queue.js';
import type { TenantStore } from './tenant-store.js';
import type { TriggerStore } from './trigger-store.js';
import type { DeliveryStore } from './delivery-store.js';
import type { WorkflowStore } from './workflow-store.js';

/** The store's slices, each a small port of its own (one file each, with its contract). */
export interface StoreSlices {
  tenants: TenantStore;
  catalog: CatalogStore;
  deployments: DeploymentStore;
  fleet: FleetStore;
  tasks: TaskQueue;
  outcomes: OutcomeFeed;
  assets: AssetStore;
  triggers: TriggerStore;
  deliveries: DeliveryStore;
  workflows: WorkflowStore;
}

/**
 * The store port: all persistent state of Ferry, in domain words, in slices by concern. Adapters
 * (SQLite, PostgreSQL) keep their locking and SQL inside; every method is atomic on its own. Times
 * are epoch milliseconds; lease and queue times are judged by the store's own clock. A service is
 * handed only the slices it uses (`Pick<Store, 'tasks' | 'catalog'>`).
 */
export interface Store extends StoreSlices {
  readonly kind: 'sqlite' | 'postgres';
  /** The store's clock, which judges leases. */
  now(): Promise<number>;
  /** Cheap liveness check for `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const STORE_SLICES = ['tenants', 'catalog', 'deployments', 'fleet', 'tasks', 'outcomes', 'assets', 'triggers', 'deliveries', 'workflows'] as const satisfies readonly (keyof StoreSlices)[];
