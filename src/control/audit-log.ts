import type { AuditEntry, AuditFilter, NewAuditEntry } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Page } from '../core/types.js';
import type { PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';

/** How often the leader deletes entries past the retention. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The audit log: every change made through the API (the API records it before it answers), kept
 * for `retentionMs` and pruned by the leader.
 */
export class AuditLog {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<Store, 'tenants'>,
    private readonly clock: Clock,
    private readonly retentionMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  record(entry: Omit<NewAuditEntry, 'at'>): Promise<void> {
    return this.store.tenants.appendAudit({ ...entry, at: this.clock.now() });
  }

  list(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>> {
    return this.store.tenants.listAudit(tenantId, filter, page);
  }

  start(): void {
    if (this.timer) return;
    const prune = (): void => void this.store.tenants.pruneAudit(this.clock.now() - this.retentionMs).catch(this.onError);
    prune();
    this.timer = setInterval(prune, PRUNE_EVERY_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
