import { expect, it } from 'vitest';
import type { AssetRecord } from '../core/assets.js';
import { newId } from '../core/ids.js';
import type { ContractFixture } from './fixture.contract.js';

/** The AssetStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function assetStoreContract(fx: ContractFixture): void {
  const assetOf = (over: Partial<AssetRecord> = {}): AssetRecord => ({
    id: newId('asset'),
    tenantId: fx.tenantId,
    status: 'PENDING',
    contentType: 'application/octet-stream',
    description: '',
    sizeBytes: 3,
    sha256: null,
    taskId: null,
    name: null,
    pinned: false,
    createdAt: fx.clock.now(),
    readyAt: null,
    expiresAt: fx.clock.now() + 60_000,
    ...over,
  });

  it('keeps an asset to its tenant and lists a tenant’s newest first, by status and by task, in pages', async () => {
    const a = assetOf({ description: 'weights' });
    const b = assetOf({ taskId: 'task_x', name: 'clip.mp4', contentType: 'video/mp4' });
    const c = assetOf();
    for (const x of [a, b, c]) await fx.store.assets.createAsset(x);
    await fx.store.assets.createAsset(assetOf({ tenantId: fx.otherTenant }));
    expect(await fx.store.assets.getAsset(fx.tenantId, a.id)).toEqual(a);
    expect(await fx.store.assets.getAsset(fx.otherTenant, a.id)).toBeNull();
    expect(await fx.store.assets.assetById(a.id)).toEqual(a);

    const first = await fx.store.assets.listAssets(fx.tenantId, {}, { limit: 2 });
    expect(first.items.map((x) => x.id)).toEqual([c.id, b.id]);
    const second = await fx.store.assets.listAssets(fx.tenantId, {}, { limit: 2, cursor: first.nextCursor });
    expect([second.items.map((x) => x.id), second.nextCursor]).toEqual([[a.id], null]);
    expect((await fx.store.assets.listAssets(fx.tenantId, { taskId: 'task_x' }, { limit: 10 })).items).toEqual([b]);
    await fx.store.assets.markAssetReady(c.id, { sizeBytes: 3, sha256: 'ab' }, fx.clock.now());
    expect((await fx.store.assets.listAssets(fx.tenantId, { status: 'READY' }, { limit: 10 })).items.map((x) => x.id)).toEqual([c.id]);
  });

  it('makes a PENDING asset READY once, with what was stored', async () => {
    const a = assetOf({ sizeBytes: null });
    await fx.store.assets.createAsset(a);
    fx.clock.advance(5);
    const ready = await fx.store.assets.markAssetReady(a.id, { sizeBytes: 7, sha256: 'aa'.repeat(32) }, fx.clock.now());
    expect(ready).toEqual({ ...a, status: 'READY', sizeBytes: 7, sha256: 'aa'.repeat(32), readyAt: fx.clock.now() });
    // A second completion (an upload retried after a lost answer) leaves the first one's record.
    expect(await fx.store.assets.markAssetReady(a.id, { sizeBytes: 8, sha256: 'bb'.repeat(32) }, fx.clock.now() + 1)).toEqual(ready);
    expect(await fx.store.assets.markAssetReady('asset_none', { sizeBytes: 1, sha256: 'cc' }, 0)).toBeNull();
  });

  it('lists a tenant’s READY assets in the order they became READY, from a point on', async () => {
    const [a, b, c] = [assetOf(), assetOf(), assetOf()];
    for (const x of [a, b, c, assetOf({ tenantId: fx.otherTenant })]) await fx.store.assets.createAsset(x);
    await fx.store.assets.markAssetReady(c.id, { sizeBytes: 1, sha256: 'c' }, 5000);
    await fx.store.assets.markAssetReady(a.id, { sizeBytes: 1, sha256: 'a' }, 6000);
    const ids = async (from: { at: number; id: string }, limit = 10) => (await fx.store.assets.listReadyAssets(fx.tenantId, from, limit)).map((x) => x.id);
    expect(await ids({ at: 0, id: '' })).toEqual([c.id, a.id]);
    expect(await ids({ at: 0, id: '' }, 1)).toEqual([c.id]);
    expect(await ids({ at: 5000, id: c.id })).toEqual([a.id]);
    expect(await ids({ at: 5000, id: '' })).toEqual([c.id, a.id]);
    expect(await ids({ at: 6001, id: '' })).toEqual([]);
    expect(b.status).toBe('PENDING');
  });

  it('deletes an asset of the tenant only', async () => {
    const a = assetOf();
    await fx.store.assets.createAsset(a);
    expect(await fx.store.assets.deleteAsset(fx.otherTenant, a.id)).toBe('absent');
    expect(await fx.store.assets.deleteAsset(fx.tenantId, a.id)).toBe('deleted');
    expect(await fx.store.assets.getAsset(fx.tenantId, a.id)).toBeNull();
    expect(await fx.store.assets.deleteAsset(fx.tenantId, a.id)).toBe('absent');
  });

  it('lists the expired assets that are not pinned, soonest expired first', async () => {
    const now = fx.clock.now();
    const late = assetOf({ expiresAt: now - 10 });
    const early = assetOf({ expiresAt: now - 20 });
    const pinned = assetOf({ expiresAt: now - 30, pinned: true });
    const alive = assetOf({ expiresAt: now + 10 });
    for (const x of [late, early, pinned, alive]) await fx.store.assets.createAsset(x);
    expect((await fx.store.assets.listExpiredAssets(now, 10)).map((x) => x.id)).toEqual([early.id, late.id]);
    expect((await fx.store.assets.listExpiredAssets(now, 1)).map((x) => x.id)).toEqual([early.id]);
  });

  it('holds the input assets of a queued or running task, through each way a task is stored, and lets them go once it ended', async () => {
    const [a, b, c] = [assetOf({ expiresAt: 0 }), assetOf(), assetOf()];
    for (const x of [a, b, c]) await fx.store.assets.createAsset(x);
    const single = fx.taskOf({ inputAssets: [a.id, b.id] });
    await fx.store.tasks.enqueueTask({ task: single, requestHash: null });
    const [batched] = await fx.store.tasks.enqueueBatch([{ task: fx.taskOf({ inputAssets: [c.id] }), requestHash: null }]);
    expect((await fx.store.tasks.getTask(fx.tenantId, single.id))!.inputAssets).toEqual([a.id, b.id]);
    expect((await fx.store.tasks.getTask(fx.tenantId, batched!.task.id))!.inputAssets).toEqual([c.id]);
    for (const x of [a, b, c]) expect(await fx.store.assets.deleteAsset(fx.tenantId, x.id)).toBe('in-use');
    // Expired, but held: not for the sweep yet.
    expect((await fx.store.assets.listExpiredAssets(fx.clock.now(), 10)).map((x) => x.id)).not.toContain(a.id);

    const inst = await fx.idleInstance();
    const claimed = await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 60_000 });
    expect(claimed.map((t) => [t.id, t.status, t.inputAssets])).toEqual([[single.id, 'RUNNING', [a.id, b.id]]]);
    expect(await fx.store.assets.deleteAsset(fx.tenantId, a.id)).toBe('in-use');
    await fx.store.tasks.completeTask({ id: single.id, attempt: 1 }, { status: 'SUCCEEDED', output: null }, 1_000);
    expect((await fx.store.assets.listExpiredAssets(fx.clock.now(), 10)).map((x) => x.id)).toContain(a.id);
    expect(await fx.store.assets.deleteAsset(fx.tenantId, a.id)).toBe('deleted');
    expect(await fx.store.assets.deleteAsset(fx.tenantId, b.id)).toBe('deleted');
    await fx.store.tasks.requestCancel(fx.tenantId, batched!.task.id);
    expect(await fx.store.assets.deleteAsset(fx.tenantId, c.id)).toBe('deleted');
    // A task without assets has none.
    const plain = fx.taskOf();
    await fx.store.tasks.enqueueTask({ task: plain, requestHash: null });
    expect((await fx.store.tasks.getTask(fx.tenantId, plain.id))!.inputAssets).toEqual([]);
  });

  it('records how a succeeded attempt kept its output: a response’s text and type, the files it left as assets', async () => {
    const inst = await fx.idleInstance();
    const [a, b] = [fx.taskOf(), fx.taskOf()];
    for (const t of [a, b]) await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 2, leaseMs: 60_000 });
    const files = [{ id: 'asset_r', name: 'response', sizeBytes: 5, contentType: 'image/png' }, { id: 'asset_f', name: 'out/f.txt', sizeBytes: 1, contentType: 'text/plain' }];
    await fx.store.tasks.completeTask({ id: a.id, attempt: 1 }, { status: 'SUCCEEDED', output: null, outputType: 'image/png', outputAssets: files, outputAsset: 'asset_r' }, 1_000);
    await fx.store.tasks.completeTask({ id: b.id, attempt: 1 }, { status: 'SUCCEEDED', output: '{ "a" : 1 }', outputType: 'application/json' }, 1_000);
    expect(await fx.store.tasks.getTask(fx.tenantId, a.id)).toMatchObject({ output: null, outputType: 'image/png', outputAssets: files, outputAsset: 'asset_r' });
    expect(await fx.store.tasks.getTask(fx.tenantId, b.id)).toMatchObject({ output: '{ "a" : 1 }', outputType: 'application/json', outputAssets: [], outputAsset: null });
  });

  it('keeps one signing key, whoever asks first', async () => {
    const first = await fx.store.assets.signingKey(() => Buffer.alloc(32, 1));
    expect(first).toEqual(Buffer.alloc(32, 1));
    expect(await fx.store.assets.signingKey(() => Buffer.alloc(32, 2))).toEqual(first);
  });
}
