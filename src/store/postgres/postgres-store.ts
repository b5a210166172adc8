import type pg from 'pg';
import type { Clock } from '../../core/clock.js';
import type { Store } from '../store.js';
import { PgAssetStore } from './asset-store.js';
import { PgCatalogStore } from './catalog-store.js';
import { PgConnection, type PoolOptions, createPool } from './connection.js';
import { PgDeploymentStore } from './deployment-store.js';
import { PgFleetStore } from './fleet-store.js';
import { migrate } from './migrations.js';
import { PgOutcomeFeed } from './outcome-feed.js';
import { toStoreError } from './store-errors.js';
import { PgTaskQueue } from './task-queue.js';
import { PgTenantStore } from './tenant-store.js';
import { PgTriggerStore } from './trigger-store.js';
import { PgDeliveryStore } from './delivery-store.js';
import { PgWorkflowStore } from './workflow-store.js';

export interface PostgresStoreOptions extends PoolOptions {
  /**
   * Judges every time the store writes or compares. Replicas must agree on it: the composition
   * root gives each the database server's clock (replicas/postgres/database-clock.ts).
   */
  clock: Clock;
}

/**
 * The fleet store: state and queue in PostgreSQL, shared by any number of `ferry server` replicas,
 * its slices one file each. Every method is atomic on its own: one statement where possible (the
 * hot paths are one round trip each, see statements.ts and task-transitions.ts), otherwise a
 * transaction on one pooled connection. Concurrency is handled by row locks: claims skip rows
 * other claimers hold (SKIP LOCKED), completions guard their update by the attempt they read, and
 * multi-row takeovers lock rows in seq order.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly tenants: PgTenantStore;
  readonly catalog: PgCatalogStore;
  readonly deployments: PgDeploymentStore;
  readonly fleet: PgFleetStore;
  readonly tasks: PgTaskQueue;
  readonly outcomes: PgOutcomeFeed;
  readonly assets: PgAssetStore;
  readonly triggers: PgTriggerStore;
  readonly deliveries: PgDeliveryStore;
  readonly workflows: PgWorkflowStore;
  private readonly conn: PgConnection;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** The clock that judges leases; hand it to the control plane so both agree. */
    readonly clock: Clock,
  ) {
    this.conn = new PgConnection(pool, clock);
    this.tenants = new PgTenantStore(this.conn);
    this.catalog = new PgCatalogStore(this.conn);
    this.deployments = new PgDeploymentStore(this.conn);
    this.fleet = new PgFleetStore(this.conn);
    this.tasks = new PgTaskQueue(this.conn);
    this.outcomes = new PgOutcomeFeed(this.conn);
    this.assets = new PgAssetStore(this.conn);
    this.triggers = new PgTriggerStore(this.conn);
    this.deliveries = new PgDeliveryStore(this.conn);
    this.workflows = new PgWorkflowStore(this.conn);
  }

  /** Connects and applies missing migrations. Throws STORE_UNAVAILABLE when the server cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = createPool(options);
    try {
      await migrate(pool, options.schema);
      return new PostgresStore(pool, options.clock);
    } catch (err) {
      await pool.end().catch(() => {});
      throw toStoreError(err);
    }
  }

  async now(): Promise<number> {
    return this.clock.now();
  }

  async ping(): Promise<void> {
    await this.conn.sql.run('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
