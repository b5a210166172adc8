import type { ApiKey, Tenant } from '../core/types.js';

/** Tenants and their API keys (node tokens are keys of scope `node`). */
export interface TenantStore {
  /** Creates a tenant with its first API key, atomically. Throws TENANT_EXISTS on a taken name. */
  createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
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
}
