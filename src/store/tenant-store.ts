import type { AuditEntry, AuditFilter, NewAuditEntry } from '../core/audit.js';
import type { ApiKey, Page, Tenant } from '../core/types.js';
import type { PageRequest } from './paging.js';

/** Tenants, their API keys (node tokens are keys of scope `node`) and the audit log of their changes. */
export interface TenantStore {
  /** Creates a tenant with its first API key, atomically. Throws TENANT_EXISTS on a taken name. */
  createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  /** Replaces the tenant's quotas; returns it as it is now, null when there is none. */
  setQuotas(tenantId: string, quotas: Tenant['quotas']): Promise<Tenant | null>;
  countTenants(): Promise<number>;
  createApiKey(key: ApiKey): Promise<void>;
  /** The key whose secret hashes to `hash`: every authenticated request asks this. */
  findApiKey(hash: string): Promise<ApiKey | null>;
  /** The tenant's keys (node tokens too), oldest first. */
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  /** Revokes the key (a second revoke keeps the first time); null when the tenant has no such key. */
  revokeApiKey(tenantId: string, keyId: string, now: number): Promise<ApiKey | null>;
  /** Records that the key authenticated a request at `at`. */
  touchApiKey(keyId: string, at: number): Promise<void>;
  appendAudit(entry: NewAuditEntry): Promise<void>;
  /** The tenant's entries, newest first. */
  listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>>;
  /** Deletes the entries made before `before`; returns how many went. */
  pruneAudit(before: number): Promise<number>;
}
