import type { AuditEntry, AuditFilter, NewAuditEntry } from '../../core/audit.js';
import { tenantExists } from '../../core/errors.js';
import type { ApiKey, Page, Tenant } from '../../core/types.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toApiKey, toAuditEntry, toTenant } from '../rows.js';
import type { TenantStore } from '../tenant-store.js';
import type { PgConnection, Sql } from './connection.js';
import { SQL } from './statements.js';
import { isUniqueViolation } from './store-errors.js';
import { cmp, where } from './where.js';

export class PgTenantStore implements TenantStore {
  constructor(private readonly conn: PgConnection) {}

  async createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void> {
    try {
      await this.conn.tx(async (sql) => {
        await sql.run('INSERT INTO tenants (id, name, system, quotas, created_at) VALUES ($1, $2, $3, $4, $5)', [tenant.id, tenant.name, tenant.system, JSON.stringify(tenant.quotas), tenant.createdAt]);
        await insertApiKey(sql, firstKey);
      });
    } catch (err) {
      throw isUniqueViolation(err, 'tenants_name_key') ? tenantExists(tenant.name) : err;
    }
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = await this.conn.sql.one('SELECT * FROM tenants WHERE id = $1', [id]);
    return row ? toTenant(row) : null;
  }

  async setQuotas(tenantId: string, quotas: Tenant['quotas']): Promise<Tenant | null> {
    const row = await this.conn.sql.one('UPDATE tenants SET quotas = $2 WHERE id = $1 RETURNING *', [tenantId, JSON.stringify(quotas)]);
    return row ? toTenant(row) : null;
  }

  async countTenants(): Promise<number> {
    return (await this.conn.sql.one<{ n: number }>('SELECT count(*) AS n FROM tenants'))!.n;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    await insertApiKey(this.conn.sql, key);
  }

  async findApiKey(hash: string): Promise<ApiKey | null> {
    const row = await this.conn.sql.one(SQL.apiKey, [hash]);
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return (await this.conn.sql.rows('SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId])).map(toApiKey);
  }

  async revokeApiKey(tenantId: string, keyId: string, now: number): Promise<ApiKey | null> {
    const row = await this.conn.sql.one('UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND tenant_id = $2 RETURNING *', [keyId, tenantId, now]);
    return row ? toApiKey(row) : null;
  }

  async appendAudit(e: NewAuditEntry): Promise<void> {
    await this.conn.sql.run('INSERT INTO audit_log (tenant_id, at, key_id, action, resource, source, status) VALUES ($1, $2, $3, $4, $5, $6, $7)', [e.tenantId, e.at, e.keyId, e.action, e.resource, e.source, e.status]);
  }

  async listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>> {
    const w = where([
      cmp('tenant_id', '=', tenantId),
      cmp('action', '=', filter.action),
      cmp('key_id', '=', filter.keyId),
      cmp('at', '>=', filter.since),
      cmp('at', '<', filter.until),
      cmp('seq', '<', decodeCursor<number>(page.cursor, 'number')),
    ]);
    const rows = await this.conn.sql.rows(`SELECT * FROM audit_log ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toAuditEntry, 'seq');
  }

  async pruneAudit(before: number): Promise<number> {
    return this.conn.sql.run('DELETE FROM audit_log WHERE at < $1', [before]);
  }

  async touchApiKey(keyId: string, at: number): Promise<void> {
    await this.conn.sql.run('UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $1', [keyId, at]);
  }
}

async function insertApiKey(sql: Sql, key: ApiKey): Promise<void> {
  await sql.run(
    'INSERT INTO api_keys (id, tenant_id, name, scope, hash, prefix, created_at, expires_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [key.id, key.tenantId, key.name, key.scope, key.hash, key.prefix, key.createdAt, key.expiresAt, key.revokedAt, key.lastUsedAt],
  );
}
