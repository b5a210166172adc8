import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { ContractFixture } from './fixture.contract.js';

/** The TenantStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function tenantStoreContract(fx: ContractFixture): void {
  it('refuses a taken tenant name', async () => {
    const again = { id: newId('ten'), name: fx.tenantId, system: false, createdAt: fx.clock.now() };
    await expect(fx.store.tenants.createTenant(again, { id: newId('key'), tenantId: again.id, name: 'admin', scope: 'admin', hash: 'hash-again', createdAt: 0, prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null })).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
    expect(await fx.store.tenants.countTenants()).toBe(2);
  });

  it('lists a tenant’s keys, revokes one once, and records its last use', async () => {
    const key = { id: newId('key'), tenantId: fx.tenantId, name: 'ci', scope: 'invoke' as const, hash: 'hash-ci', prefix: 'fry_abcd', createdAt: fx.clock.now() + 1, expiresAt: fx.clock.now() + 60_000, revokedAt: null, lastUsedAt: null };
    await fx.store.tenants.createApiKey(key);
    expect((await fx.store.tenants.listApiKeys(fx.tenantId)).map((k) => k.name)).toEqual(['admin', 'ci']);
    expect(await fx.store.tenants.findApiKey('hash-ci')).toEqual(key);
    await fx.store.tenants.touchApiKey(key.id, 500);
    await fx.store.tenants.touchApiKey(key.id, 400);
    expect((await fx.store.tenants.findApiKey('hash-ci'))?.lastUsedAt).toBe(500);
    expect(await fx.store.tenants.revokeApiKey(fx.otherTenant, key.id, 1)).toBeNull();
    expect(await fx.store.tenants.revokeApiKey(fx.tenantId, key.id, 700)).toMatchObject({ revokedAt: 700 });
    expect(await fx.store.tenants.revokeApiKey(fx.tenantId, key.id, 900)).toMatchObject({ revokedAt: 700 });
  });
}
