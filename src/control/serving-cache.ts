import type { Clock } from '../core/clock.js';
import type { DeploymentRecord, FunctionRecord, VersionRecord } from '../core/types.js';
import type { Wakeups } from './wakeups/wakeups.js';

/** What a submit resolves a function to: the function, its serving deployments and their versions. */
export interface ServingFunction {
  fn: FunctionRecord;
  serving: DeploymentRecord[];
  /** The versions of `serving`, by id (versions are immutable). */
  versions: Map<string, VersionRecord>;
}

/** A backstop for a lost wake-up (their delivery across replicas is best effort). */
const TTL_MS = 5_000;

/**
 * Keeps what submits resolve functions to between submits, so the dispatch path reads no
 * function, deployment or version on a warm function. An entry goes when a deployment of any
 * function starts or stops serving (the `deployment-reset` wake-up, whichever replica deployed or
 * undeployed) and after a few seconds whatever happens. Settings changes keep a deployment
 * serving and change nothing a submit reads. Function and version deletions need an undeploy
 * first, which clears the cache.
 */
export class ServingCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ServingFunction> }>();

  constructor(
    wakeups: Wakeups,
    private readonly clock: Clock,
  ) {
    wakeups.on('deployment-reset', () => this.entries.clear());
  }

  /** The cached value of the tenant's function (by id or name), or `load`'s; a failed load is not kept. */
  get(tenantId: string, idOrName: string, load: () => Promise<ServingFunction>): Promise<ServingFunction> {
    const key = `${tenantId}\u0000${idOrName}`;
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.at < TTL_MS) return entry.value;
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}
