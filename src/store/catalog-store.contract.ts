import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import { CONTRACT_SPEC, type ContractFixture } from './fixture.contract.js';

/** The CatalogStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function catalogStoreContract(fx: ContractFixture): void {
  it('keeps functions per tenant and refuses a taken name', async () => {
    expect((await fx.store.catalog.getFunction(fx.tenantId, 'echo'))?.id).toBe(fx.functionId);
    expect(await fx.store.catalog.getFunction(fx.otherTenant, fx.functionId)).toBeNull();
    await expect(
      fx.store.catalog.createFunction(
        { id: newId('fn'), tenantId: fx.tenantId, name: 'echo', description: '', tags: [], createdAt: 0 },
        { id: newId('ver'), tenantId: fx.tenantId, functionId: 'x', spec: CONTRACT_SPEC, createdAt: 0 },
      ),
    ).rejects.toMatchObject({ code: 'FUNCTION_EXISTS' });
    const v2 = await fx.store.catalog.addVersion({ id: newId('ver'), tenantId: fx.tenantId, functionId: fx.functionId, spec: CONTRACT_SPEC, createdAt: 0 });
    expect(v2.number).toBe(2);
    const page1 = await fx.store.catalog.listVersions(fx.tenantId, fx.functionId, { limit: 1 });
    expect(page1.items).toHaveLength(1);
    const page2 = await fx.store.catalog.listVersions(fx.tenantId, fx.functionId, { limit: 1, cursor: page1.nextCursor });
    expect(page2.items[0]!.id).not.toBe(page1.items[0]!.id);
    expect(page2.nextCursor).toBeNull();
  });

  it('refuses to delete a deployed version or function', async () => {
    const now = fx.clock.now();
    await fx.store.deployments.putDeployment({
      tenantId: fx.tenantId, functionId: fx.functionId, versionId: fx.versionId, state: 'ACTIVE', reason: null, minInstances: 0, maxInstances: 1, targetPerInstance: 1,
      scaleDownDelaySeconds: 1, scaleToZeroAfterSeconds: 1, createdAt: now, updatedAt: now,
    });
    await expect(fx.store.catalog.deleteVersion(fx.tenantId, fx.versionId)).rejects.toMatchObject({ code: 'VERSION_DEPLOYED' });
    await expect(fx.store.catalog.deleteFunction(fx.tenantId, fx.functionId)).rejects.toMatchObject({ code: 'FUNCTION_DEPLOYED' });
    expect(await fx.store.deployments.setDeploymentState(fx.versionId, ['ACTIVE'], 'INACTIVE', 'undeployed')).toBe(true);
    await fx.store.catalog.deleteFunction(fx.tenantId, fx.functionId);
    expect(await fx.store.catalog.getVersion(fx.tenantId, fx.versionId)).toBeNull();
  });
}
