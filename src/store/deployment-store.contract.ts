import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import { CONTRACT_SPEC, type ContractFixture } from './fixture.contract.js';

/** The DeploymentStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function deploymentStoreContract(fx: ContractFixture): void {
  it('lists a tenant’s deployment events in order after a sequence number, by function and version', async () => {
    const theirFunction = newId('fn');
    const other = await fx.store.catalog.createFunction(
      { id: theirFunction, tenantId: fx.otherTenant, name: 'theirs', description: '', tags: [], createdAt: 0 },
      { id: newId('ver'), tenantId: fx.otherTenant, functionId: theirFunction, spec: CONTRACT_SPEC, createdAt: 0 },
    );
    const v2 = await fx.store.catalog.addVersion({ id: newId('ver'), tenantId: fx.tenantId, functionId: fx.functionId, spec: CONTRACT_SPEC, createdAt: 0 });
    const event = (version: string, to: string) => ({ versionId: version, at: fx.clock.now(), kind: 'instance' as const, subject: 'ins_1', from: 'STARTING', to, reason: to });
    await fx.store.deployments.addDeploymentEvent(event(fx.versionId, 'IDLE'));
    await fx.store.deployments.addDeploymentEvent(event(other.id, 'IDLE'));
    await fx.store.deployments.addDeploymentEvent(event(v2.id, 'BUSY'));
    await fx.store.deployments.addDeploymentEvent(event(fx.versionId, 'STOPPED'));

    const all = await fx.store.deployments.listFleetEvents(fx.tenantId, { afterSeq: 0 }, 10);
    expect(await fx.store.deployments.lastFleetEventSeq()).toBeGreaterThanOrEqual(all[all.length - 1]!.seq);
    expect(all.map((e) => [e.versionId, e.to, e.functionId])).toEqual([
      [fx.versionId, 'IDLE', fx.functionId],
      [v2.id, 'BUSY', fx.functionId],
      [fx.versionId, 'STOPPED', fx.functionId],
    ]);
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
    expect((await fx.store.deployments.listFleetEvents(fx.tenantId, { afterSeq: all[0]!.seq }, 1)).map((e) => e.to)).toEqual(['BUSY']);
    expect((await fx.store.deployments.listFleetEvents(fx.tenantId, { afterSeq: 0, versionId: fx.versionId }, 10)).map((e) => e.to)).toEqual(['IDLE', 'STOPPED']);
    expect(await fx.store.deployments.listFleetEvents(fx.tenantId, { afterSeq: 0, functionId: theirFunction }, 10)).toEqual([]);
    expect((await fx.store.deployments.listFleetEvents(fx.otherTenant, { afterSeq: 0 }, 10)).map((e) => e.versionId)).toEqual([other.id]);
  });

  it('keeps load samples per version in time order, the newest when capped, and prunes old ones', async () => {
    const sample = (at: number, queued: number, version = fx.versionId) => ({ versionId: version, at, queued, running: 1, instances: 2, desired: 3 });
    for (const at of [3000, 1000, 2000]) await fx.store.deployments.addLoadSample(sample(at, at / 1000));
    await fx.store.deployments.addLoadSample(sample(1500, 9, 'ver_other'));
    expect((await fx.store.deployments.listLoadSamples(fx.versionId, 0, 10)).map((s) => [s.at, s.queued])).toEqual([[1000, 1], [2000, 2], [3000, 3]]);
    expect(await fx.store.deployments.listLoadSamples(fx.versionId, 2000, 10)).toEqual([sample(2000, 2), sample(3000, 3)]);
    expect((await fx.store.deployments.listLoadSamples(fx.versionId, 0, 2)).map((s) => s.at)).toEqual([2000, 3000]);
    expect(await fx.store.deployments.pruneLoadSamples(2000)).toBe(2);
    expect((await fx.store.deployments.listLoadSamples(fx.versionId, 0, 10)).map((s) => s.at)).toEqual([2000, 3000]);
    expect(await fx.store.deployments.listLoadSamples('ver_other', 0, 10)).toEqual([]);
  });
}
