import { tenantExists } from '../../core/errors.js';
import type { ApiKey, Tenant } from '../../core/types.js';
import type { AuditEntry, AuditFilter, NewAuditEntry } from '../../core/audit.js';
import type { Page } from '../../core/types.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toApiKey, toAuditEntry, toTenant } from '../rows.js';
import { cmp, where } from './where.js';
import type { TenantStore } from '../tenant-store.js';
import type { Row, SqliteConnection } from './connection.js';

export class SqliteTenantStore implements TenantStore {
  constructor(private readonly conn: SqliteConnection) {}

  async createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void> {
    await this.conn.immediate(() => {
      if (this.conn.sql('SELECT 1 FROM tenants WHERE name = ?').get(tenant.name)) throw tenantExists(tenant.name);
      this.conn.sql('INSERT INTO tenants (id, name, system, quotas, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(tenant.id, tenant.name, tenant.system ? 1 : 0, JSON.stringify(tenant.quotas), tenant.createdAt);
      this.insertApiKey(firstKey);
    });
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = this.conn.sql('SELECT * FROM tenants WHERE id = ?').get(id) as Row | undefined;
    return row ? toTenant(row) : null;
  }

  async setQuotas(tenantId: string, quotas: Tenant['quotas']): Promise<Tenant | null> {
    return this.conn.immediate(() => {
      this.conn.sql('UPDATE tenants SET quotas = ? WHERE id = ?').run(JSON.stringify(quotas), tenantId);
      const row = this.conn.sql('SELECT * FROM tenants WHERE id = ?').get(tenantId) as Row | undefined;
      return row ? toTenant(row) : null;
    });
  }

  async countTenants(): Promise<number> {
    return this.conn.sql('SELECT count(*) FROM tenants').pluck().get() as number;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    this.insertApiKey(key);
  }

  private insertApiKey(key: ApiKey): void {
    this.conn.sql('INSERT INTO api_keys (id, tenant_id, name, scope, hash, prefix, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(key.id, key.tenantId, key.name, key.scope, key.hash, key.prefix, key.createdAt, key.expiresAt, key.revokedAt, key.lastUsedAt);
  }

  async listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return (this.conn.sql('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id').all(tenantId) as Row[]).map(toApiKey);
  }

  async revokeApiKey(tenantId: string, keyId: string, now: number): Promise<ApiKey | null> {
    return this.conn.immediate(() => {
      this.conn.sql('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND tenant_id = ?').run(now, keyId, tenantId);
      const row = this.conn.sql('SELECT * FROM api_keys WHERE id = ? AND tenant_id = ?').get(keyId, tenantId) as Row | undefined;
      return row ? toApiKey(row) : null;
    });
  }

  async appendAudit(e: NewAuditEntry): Promise<void> {
    await this.conn.immediate(() => {
      this.conn.sql('INSERT INTO audit_log (tenant_id, at, key_id, action, resource, source, status) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.tenantId, e.at, e.keyId, e.action, e.resource, e.source, e.status);
    });
  }

  async listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>> {
    const w = where(
      cmp('tenant_id', '=', tenantId),
      cmp('action', '=', filter.action),
      cmp('key_id', '=', filter.keyId),
      cmp('at', '>=', filter.since),
      cmp('at', '<', filter.until),
      cmp('seq', '<', decodeCursor<number>(page.cursor, 'number')),
    );
    const rows = this.conn.sql(`SELECT * FROM audit_log ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toAuditEntry, 'seq');
  }

  async pruneAudit(before: number): Promise<number> {
    return (await this.conn.immediate(() => this.conn.sql('DELETE FROM audit_log WHERE at < ?').run(before))).changes;
  }

  async touchApiKey(keyId: string, at: number): Promise<void> {
    await this.conn.immediate(() => this.conn.sql('UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?').run(at, keyId));
  }

  async findApiKey(hash: string): Promise<ApiKey | null> {
    const row = this.conn.stmt.apiKey.get(hash) as Row | undefined;
    return row ? toApiKey(row) : null;
  }
}
