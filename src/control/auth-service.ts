import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { FerryError } from '../core/errors.js';
import { ID_PREFIX, newId } from '../core/ids.js';
import { NODE_SCOPE, type Scope } from '../core/states.js';
import type { TenantQuotas } from '../core/rate-limits.js';
import type { ApiKey, Tenant } from '../core/types.js';
import type { Store } from '../store/store.js';

/** Who a request is: the tenant and scope of its API key. */
export interface Principal {
  tenantId: string;
  keyId: string;
  scope: Scope;
  system: boolean;
  /** The tenant's rates, as its lookup found them (so a change takes effect within the cache's second). */
  quotas: TenantQuotas;
}

/**
 * How long a key's lookup is kept: one store read a second per key, and a revocation (or expiry)
 * takes effect on every replica within it, with no signal to miss.
 */
const CACHE_MS = 1_000;
/** A key's last use is written at most this often. */
const TOUCH_MS = 60_000;
/** Characters of a key shown in lists (`fry_` and four of the secret). */
const PREFIX_LENGTH = 8;

/**
 * API keys: `fry_` + 32 random bytes, shown once, stored as sha256 with its first characters to
 * tell keys apart. Lookups are cached briefly because every request authenticates and the hash
 * lookup would otherwise be a store read on the dispatch path.
 */
export class AuthService {
  private readonly cache = new Map<string, { key: ApiKey | null; principal: Principal | null; until: number }>();

  constructor(
    private readonly store: Pick<Store, 'tenants'>,
    private readonly clock: Clock,
  ) {}

  static hash(secret: string): string {
    return createHash('sha256').update(secret).digest('hex');
  }

  /** Creates the system tenant and its admin key on the first start; returns the key then, else null. */
  async bootstrap(): Promise<string | null> {
    if ((await this.store.tenants.countTenants()) > 0) return null;
    try {
      return (await this.createTenant('default', true)).secret;
    } catch (err) {
      // Replicas starting together on an empty PostgreSQL: one creates the tenant, the others see it.
      if ((await this.store.tenants.countTenants()) > 0) return null;
      throw err;
    }
  }

  async createTenant(name: string, system = false): Promise<{ tenant: Tenant; key: ApiKey; secret: string }> {
    const now = this.clock.now();
    const tenant: Tenant = { id: newId(ID_PREFIX.tenant, now), name, system, quotas: {}, createdAt: now };
    const { key, secret } = this.newKey(tenant.id, 'admin', 'admin');
    await this.store.tenants.createTenant(tenant, key);
    return { tenant, key, secret };
  }

  async createKey(tenantId: string, name: string, scope: Scope, ttlSeconds?: number): Promise<{ key: ApiKey; secret: string }> {
    const created = this.newKey(tenantId, name, scope, ttlSeconds);
    await this.store.tenants.createApiKey(created.key);
    return created;
  }

  /**
   * A token for `ferry agent` on another machine: it reaches the agent routes and nothing else.
   * Nodes serve every tenant, so only admins of the system tenant may create one.
   */
  async createNodeToken(principal: Principal, name: string): Promise<{ key: ApiKey; secret: string }> {
    if (!principal.system || principal.scope !== 'admin') throw new FerryError('FORBIDDEN', 'only admins of the system tenant may create node tokens');
    return this.createKey(principal.tenantId, name, NODE_SCOPE);
  }

  /** The principal of an `Authorization` header; throws UNAUTHENTICATED. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new FerryError('UNAUTHENTICATED', 'missing API key: send "Authorization: Bearer <key>"');
    const secret = m[1]!;
    const now = this.clock.now();
    let cached = this.cache.get(secret);
    if (!cached || cached.until <= now) {
      const key = await this.store.tenants.findApiKey(AuthService.hash(secret));
      const tenant = key ? await this.store.tenants.getTenant(key.tenantId) : null;
      const principal = key && tenant ? { tenantId: key.tenantId, keyId: key.id, scope: key.scope, system: tenant.system, quotas: tenant.quotas } : null;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(secret, (cached = { key: principal ? key : null, principal, until: now + CACHE_MS }));
      if (key && principal && key.revokedAt === null && (key.lastUsedAt ?? 0) + TOUCH_MS <= now) {
        key.lastUsedAt = now;
        void this.store.tenants.touchApiKey(key.id, now).catch(() => {});
      }
    }
    const { key, principal } = cached;
    if (!key || !principal) throw new FerryError('UNAUTHENTICATED', 'unknown API key');
    if (key.revokedAt !== null) throw new FerryError('KEY_REVOKED', `API key ${key.id} was revoked at ${new Date(key.revokedAt).toISOString()}`);
    if (key.expiresAt !== null && key.expiresAt <= now) throw new FerryError('KEY_EXPIRED', `API key ${key.id} expired at ${new Date(key.expiresAt).toISOString()}`);
    return principal;
  }

  /** Sets a tenant's rates (system admins only); every replica applies them within a second. */
  async setQuotas(principal: Principal, tenantId: string, quotas: TenantQuotas): Promise<Tenant> {
    if (!principal.system || principal.scope !== 'admin') throw new FerryError('FORBIDDEN', "only admins of the system tenant may set a tenant's quotas");
    const tenant = await this.store.tenants.setQuotas(tenantId, quotas);
    if (!tenant) throw new FerryError('TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
    return tenant;
  }

  /** The tenant's keys and node tokens, oldest first (their hashes are never shown). */
  listKeys(tenantId: string): Promise<ApiKey[]> {
    return this.store.tenants.listApiKeys(tenantId);
  }

  /** Revokes a key of the tenant: every replica refuses it within a second (KEY_REVOKED). */
  async revokeKey(tenantId: string, keyId: string): Promise<ApiKey> {
    const key = await this.store.tenants.revokeApiKey(tenantId, keyId, this.clock.now());
    if (!key) throw new FerryError('NOT_FOUND', `API key ${keyId} not found`);
    // This replica refuses it at once.
    for (const [secret, entry] of this.cache) if (entry.key?.id === keyId) this.cache.delete(secret);
    return key;
  }

  private newKey(tenantId: string, name: string, scope: Scope, ttlSeconds?: number): { key: ApiKey; secret: string } {
    const secret = `fry_${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const key: ApiKey = {
      id: newId(ID_PREFIX.apiKey),
      tenantId,
      name,
      scope,
      hash: AuthService.hash(secret),
      prefix: secret.slice(0, PREFIX_LENGTH),
      createdAt: now,
      expiresAt: ttlSeconds === undefined ? null : now + ttlSeconds * 1000,
      revokedAt: null,
      lastUsedAt: null,
    };
    return { secret, key };
  }
}
