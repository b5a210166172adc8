import { type Clock, systemClock } from '../../core/clock.js';
import type { Store } from '../store.js';
import { SqliteAssetStore } from './asset-store.js';
import { SqliteCatalogStore } from './catalog-store.js';
import { SqliteConnection } from './connection.js';
import { SqliteDeploymentStore } from './deployment-store.js';
import { SqliteFleetStore } from './fleet-store.js';
import { SqliteOutcomeFeed } from './outcome-feed.js';
import { SqliteTaskQueue } from './task-queue.js';
import { SqliteTenantStore } from './tenant-store.js';
import { SqliteTriggerStore } from './trigger-store.js';
import { SqliteDeliveryStore } from './delivery-store.js';
import { SqliteWorkflowStore } from './workflow-store.js';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throw-away store. */
  path: string;
  /** `normal` survives a crash of the process (kill -9); `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  clock?: Clock;
}

/** The embedded store: one SQLite file in WAL mode (see connection.ts), its slices one file each. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly tenants: SqliteTenantStore;
  readonly catalog: SqliteCatalogStore;
  readonly deployments: SqliteDeploymentStore;
  readonly fleet: SqliteFleetStore;
  readonly tasks: SqliteTaskQueue;
  readonly outcomes: SqliteOutcomeFeed;
  readonly assets: SqliteAssetStore;
  readonly triggers: SqliteTriggerStore;
  readonly deliveries: SqliteDeliveryStore;
  readonly workflows: SqliteWorkflowStore;
  private readonly conn: SqliteConnection;

  constructor(options: SqliteStoreOptions) {
    this.conn = new SqliteConnection(options.path, options.synchronous ?? 'normal', options.clock ?? systemClock);
    this.tenants = new SqliteTenantStore(this.conn);
    this.catalog = new SqliteCatalogStore(this.conn);
    this.deployments = new SqliteDeploymentStore(this.conn);
    this.fleet = new SqliteFleetStore(this.conn);
    this.tasks = new SqliteTaskQueue(this.conn);
    this.outcomes = new SqliteOutcomeFeed(this.conn);
    this.assets = new SqliteAssetStore(this.conn);
    this.triggers = new SqliteTriggerStore(this.conn);
    this.deliveries = new SqliteDeliveryStore(this.conn);
    this.workflows = new SqliteWorkflowStore(this.conn);
  }

  async now(): Promise<number> {
    return this.conn.clock.now();
  }

  async ping(): Promise<void> {
    this.conn.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.conn.close();
  }
}
