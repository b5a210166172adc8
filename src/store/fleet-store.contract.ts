import { expect, it } from 'vitest';
import type { ContractFixture } from './fixture.contract.js';

/** The FleetStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function fleetStoreContract(fx: ContractFixture): void {
  it('fails a node’s instances and re-queues their tasks at once', async () => {
    const t = fx.taskOf();
    await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 60_000 });
    const { instances, tasks } = await fx.store.fleet.failNodeInstances('node_1', 'agent restarted');
    expect(instances.map((i) => i.state)).toEqual(['FAILED']);
    expect(tasks[0]).toMatchObject({ status: 'QUEUED', task: { attempt: 2, error: { code: 'NODE_LOST' } } });
    expect((await fx.store.tasks.queueCounts({ versionId: fx.versionId })).queued).toBe(1);
  });

  it('declares silent nodes lost, fails their instances, leaves their leases to expire, and never revives a lost node', async () => {
    const t = fx.taskOf();
    await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 60_000 });
    fx.clock.advance(5_000);
    await fx.store.fleet.upsertNode({ id: 'node_2', name: 'n2', gpus: [], state: 'READY', lastSeenAt: fx.clock.now() - 4_000, createdAt: fx.clock.now() });
    expect(await fx.store.fleet.touchNode('node_2')).toBe('READY');
    const lost = await fx.store.fleet.markLostNodes(fx.clock.now() - 3_000, 'no heartbeat for 3 s');
    expect(lost.nodes.map((n) => [n.id, n.state])).toEqual([['node_1', 'LOST']]);
    expect(lost.instances).toMatchObject([{ id: inst.id, state: 'FAILED', reason: 'no heartbeat for 3 s' }]);
    expect((await fx.store.tasks.getTask(fx.tenantId, t.id))!.status).toBe('RUNNING');
    expect(await fx.store.fleet.touchNode('node_1')).toBe('LOST');
    expect((await fx.store.fleet.getNode('node_1'))!.state).toBe('LOST');
    expect(await fx.store.fleet.touchNode('node_unknown')).toBeNull();
    fx.clock.advance(1);
    expect((await fx.store.fleet.markLostNodes(fx.clock.now(), 'again')).nodes.map((n) => n.id)).toEqual(['node_2']);
    fx.clock.advance(60_001);
    expect(await fx.store.tasks.reclaimExpiredLeases(10)).toMatchObject([{ status: 'QUEUED', task: { id: t.id, attempt: 2 } }]);
    await fx.store.fleet.upsertNode({ id: 'node_1', name: 'n1', gpus: [], state: 'READY', lastSeenAt: fx.clock.now(), createdAt: 0 });
    expect((await fx.store.fleet.getNode('node_1'))!.state).toBe('READY');
  });
}
