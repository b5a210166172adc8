import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { FerryError } from '../core/errors.js';
import { ID_PREFIX, newId } from '../core/ids.js';
import { NODE_SCOPE, type Scope } from '../core/states.js';
import type { ApiKey, Tenant } from '../core/types.js';
import type { Store } from '../store/store.js';

/** Who a request is: the tenant and scope of its API key. */
export interface Principal {
  tenantId: string;
  keyId: string;
  scope: Scope;
  system: boolean;
}

const CACHE_MS = 10_000;

/**
 * API keys: `fry_` + 32 random bytes, shown once, stored as sha256. Lookups are cached briefly
 * because every request authenticates and the hash lookup would otherwise be a store read on
 * the dispatch path.
 */
export class AuthService {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

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
    const tenant: Tenant = { id: newId(ID_PREFIX.tenant, now), name, system, createdAt: now };
    const { key, secret } = this.newKey(tenant.id, 'admin', 'admin');
    await this.store.tenants.createTenant(tenant, key);
    return { tenant, key, secret };
  }

  async createKey(tenantId: string, name: string, scope: Scope): Promise<{ key: ApiKey; secret: string }> {
    const created = this.newKey(tenantId, name, scope);
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
    const cached = this.cache.get(secret);
    let principal: Principal | null;
    if (cached && cached.until > now) {
      principal = cached.principal;
    } else {
      const key = await this.store.tenants.findApiKey(AuthService.hash(secret));
      const tenant = key ? await this.store.tenants.getTenant(key.tenantId) : null;
      principal = key && tenant ? { tenantId: key.tenantId, keyId: key.id, scope: key.scope, system: tenant.system } : null;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(secret, { principal, until: now + CACHE_MS });
    }
    if (!principal) throw new FerryError('UNAUTHENTICATED', 'unknown API key');
    return principal;
  }

  private newKey(tenantId: string, name: string, scope: Scope): { key: ApiKey; secret: string } {
    const secret = `fry_${randomBytes(32).toString('base64url')}`;
    return { secret, key: { id: newId(ID_PREFIX.apiKey), tenantId, name, scope, hash: AuthService.hash(secret), createdAt: this.clock.now() } };
  }
}
