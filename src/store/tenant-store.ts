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
}
