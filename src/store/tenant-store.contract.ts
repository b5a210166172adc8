import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { ContractFixture } from './fixture.contract.js';

/** The TenantStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function tenantStoreContract(fx: ContractFixture): void {
  it('refuses a taken tenant name', async () => {
    const again = { id: newId('ten'), name: fx.tenantId, system: false, quotas: {}, createdAt: fx.clock.now() };
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

  it('keeps the audit log per tenant, newest first, filtered, and prunes it by time', async () => {
    const entry = (at: number, action: string, tenantId = fx.tenantId) => ({ tenantId, at, keyId: 'key_1', action, resource: '{"functionId":"fn_1"}', source: '127.0.0.1', status: 201 });
    await fx.store.tenants.appendAudit(entry(100, 'POST /v1/functions'));
    await fx.store.tenants.appendAudit(entry(200, 'DELETE /v1/functions/:functionId'));
    await fx.store.tenants.appendAudit(entry(300, 'POST /v1/functions', fx.otherTenant));
    const first = await fx.store.tenants.listAudit(fx.tenantId, {}, { limit: 1 });
    const second = await fx.store.tenants.listAudit(fx.tenantId, {}, { limit: 1, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((e) => e.at)).toEqual([200, 100]);
    expect(second.nextCursor).toBeNull();
    expect((await fx.store.tenants.listAudit(fx.tenantId, { action: 'POST /v1/functions' }, { limit: 10 })).items.map((e) => e.at)).toEqual([100]);
    expect((await fx.store.tenants.listAudit(fx.tenantId, { since: 150, until: 250 }, { limit: 10 })).items).toMatchObject([{ at: 200, keyId: 'key_1', resource: '{"functionId":"fn_1"}', status: 201 }]);
    expect(await fx.store.tenants.pruneAudit(250)).toBe(2);
    expect((await fx.store.tenants.listAudit(fx.otherTenant, {}, { limit: 10 })).items.map((e) => e.at)).toEqual([300]);
  });
}
