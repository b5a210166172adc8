import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { ContractFixture } from './fixture.contract.js';

/** The TenantStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function tenantStoreContract(fx: ContractFixture): void {
  it('refuses a taken tenant name', async () => {
    const again = { id: newId('ten'), name: fx.tenantId, system: false, createdAt: fx.clock.now() };
    await expect(fx.store.tenants.createTenant(again, { id: newId('key'), tenantId: again.id, name: 'admin', scope: 'admin', hash: 'hash-again', createdAt: 0 })).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
    expect(await fx.store.tenants.countTenants()).toBe(2);
  });
}
