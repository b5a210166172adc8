import { expect, it } from 'vitest';
import type { TaskRecord } from '../core/types.js';
import type { ContractFixture } from './fixture.contract.js';

/** The TaskQueue slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function taskQueueContract(fx: ContractFixture): void {
  it('stores a task, returns the same task for a reused idempotency key, and hides it from other tenants', async () => {
    const t = fx.taskOf({ idempotencyKey: 'k1' });
    // Enqueues at once (as one turn's group commit may take them) each get their own place, where the store reads it along.
    const results = await Promise.all([t, fx.taskOf(), fx.taskOf()].map((task, i) => fx.store.tasks.enqueueTask({ task, requestHash: i === 0 ? 'h' : null })));
    results.forEach((r, i) => expect(r).toMatchObject({ created: true, position: expect.toBeOneOf([null, i]) }));
    const again = await fx.store.tasks.enqueueTask({ task: fx.taskOf({ idempotencyKey: 'k1' }), requestHash: 'h' });
    expect(again).toMatchObject({ created: false, sameRequest: true });
    expect(again.task.id).toBe(t.id);
    const other = await fx.store.tasks.enqueueTask({ task: fx.taskOf({ idempotencyKey: 'k1' }), requestHash: 'other' });
    expect(other).toMatchObject({ created: false, sameRequest: false });
    expect(await fx.store.tasks.getTask(fx.otherTenant, t.id)).toBeNull();
    expect((await fx.store.tasks.getTask(fx.tenantId, t.id))?.input).toEqual({ n: 1 });
  });

  it('keeps a task’s own destinations, however it was stored, and tells which tasks of a batch have them', async () => {
    const destinations = { onSuccess: { webhook: { url: 'https://example.com/h', secret: 'whsec_x' } }, includeCancelled: true };
    const one = fx.taskOf({ destinations });
    const batched = fx.taskOf({ destinations });
    const plain = fx.taskOf();
    // Through the claim path too: a waiting instance takes tasks as they are stored.
    const inst = await fx.idleInstance();
    await fx.store.tasks.enqueueTask({ task: one, requestHash: null }, { instanceId: inst.id, limit: 1, leaseMs: 10_000 });
    await fx.store.tasks.enqueueBatch([batched, plain].map((task) => ({ task, requestHash: null })));
    expect((await fx.store.tasks.getTask(fx.tenantId, one.id))?.destinations).toEqual(destinations);
    expect((await fx.store.tasks.getTask(fx.tenantId, batched.id))?.destinations).toEqual(destinations);
    expect((await fx.store.tasks.getTask(fx.tenantId, plain.id))?.destinations).toBeNull();
    expect(await fx.store.tasks.tasksWithDestinations([one.id, batched.id, plain.id, 'task_none'])).toEqual(new Set([one.id, batched.id]));
    expect(await fx.store.tasks.tasksWithDestinations([])).toEqual(new Set());
  });

  it('stores a batch in order with each new task’s position, returning earlier tasks for keys used before or earlier in the batch', async () => {
    const t0 = fx.taskOf({ idempotencyKey: 'k0' });
    await fx.store.tasks.enqueueTask({ task: t0, requestHash: 'h0' });
    const [a, b, c, d, e, f] = [
      fx.taskOf(),
      fx.taskOf({ priority: 5 }),
      fx.taskOf({ idempotencyKey: 'k0' }),
      fx.taskOf({ priority: 5 }),
      fx.taskOf({ idempotencyKey: 'kx' }),
      fx.taskOf({ idempotencyKey: 'kx' }),
    ];
    const hashes = [null, null, 'h0', null, 'hx', 'other'];
    const stored = await fx.store.tasks.enqueueBatch([a, b, c, d, e, f].map((task, i) => ({ task: task!, requestHash: hashes[i]! })));
    // Claim order: b, d (priority 5), then t0, a, e (priority 0, oldest first).
    expect(stored.map((s) => (s.created ? { id: s.task.id, position: s.position } : { earlier: s.task.id, sameRequest: s.sameRequest }))).toEqual([
      { id: a!.id, position: 3 },
      { id: b!.id, position: 0 },
      { earlier: t0.id, sameRequest: true },
      { id: d!.id, position: 1 },
      { id: e!.id, position: 4 },
      { earlier: e!.id, sameRequest: false },
    ]);
    for (const s of stored) if (s.created) expect(await fx.store.tasks.taskPosition(s.task)).toBe(s.position);
    expect(await fx.store.tasks.versionLoad(fx.versionId)).toEqual({ queued: 5, running: 0 });
    expect(await fx.store.tasks.enqueueBatch([])).toEqual([]);
  });

  it('claims by priority then age, counts positions, and claims nothing for a draining instance', async () => {
    const low = fx.taskOf();
    fx.clock.advance(1);
    const high = fx.taskOf({ priority: 5 });
    fx.clock.advance(1);
    const low2 = fx.taskOf();
    for (const t of [low, high, low2]) await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    expect(await fx.store.tasks.taskPosition(high)).toBe(0);
    expect(await fx.store.tasks.taskPosition(low)).toBe(1);
    expect(await fx.store.tasks.taskPosition(low2)).toBe(2);
    const inst = await fx.idleInstance();
    const claimed = await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 2, leaseMs: 1000 });
    expect(claimed.map((t) => t.id)).toEqual([high.id, low.id]);
    expect(claimed[0]).toMatchObject({ status: 'RUNNING', instanceId: inst.id, nodeId: 'node_1' });
    expect(await fx.store.tasks.taskPosition(low2)).toBe(0);
    expect((await fx.store.fleet.countLeasedTasks([inst.id])).get(inst.id)).toBe(2);
    expect(await fx.store.tasks.versionLoad(fx.versionId)).toEqual({ queued: 1, running: 2 });
    await fx.store.fleet.moveInstance(inst.id, ['IDLE'], 'DRAINING', 'scale-in');
    expect(await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toEqual([]);
  });

  it('counts positions and queue length exactly across thousands of tasks, after claims, cancels and re-queues', async () => {
    // Enough tasks to span several of an adapter's internal blocks, with three priorities.
    const tasks: TaskRecord[] = [];
    for (let i = 0; i < 2_600; i++) {
      const t = fx.taskOf({ priority: [0, 5, -3][i % 3]! });
      tasks.push(t);
      await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    }
    const inst = await fx.idleInstance();
    const claimed = await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 700, leaseMs: 60_000 });
    for (const t of tasks.filter((_, i) => i % 7 === 0)) await fx.store.tasks.requestCancel(fx.tenantId, t.id);
    // Some claimed tasks come back to the queue, at their old place.
    await fx.store.tasks.releaseInstanceTasks([inst.id], 'requeue');
    const stored = new Map<string, TaskRecord>();
    for (const t of tasks) stored.set(t.id, (await fx.store.tasks.getTask(fx.tenantId, t.id))!);
    // Claim order is priority, then submission order: the brute-force position is the index in it.
    const queued = tasks.filter((t) => stored.get(t.id)!.status === 'QUEUED').sort((a, b) => b.priority - a.priority || tasks.indexOf(a) - tasks.indexOf(b));
    expect(claimed).toHaveLength(700);
    expect((await fx.store.tasks.versionLoad(fx.versionId)).queued).toBe(queued.length);
    for (const [i, t] of queued.entries()) if (i % 37 === 0 || i === queued.length - 1) expect(await fx.store.tasks.taskPosition(t)).toBe(i);
  });

  it('records a result once, rejects a stale attempt, and retries a failure with back-off', async () => {
    const t = fx.taskOf();
    await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
    const failed = await fx.store.tasks.completeTask({ id: t.id, attempt: 1 }, { status: 'FAILED', error: { code: 'EXIT', message: 'exit 3', exitCode: 3 } }, 500);
    expect(failed.accepted).toBe(true);
    expect(failed.task).toMatchObject({ status: 'QUEUED', attempt: 2, error: { exitCode: 3 } });
    expect(await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toEqual([]);
    expect(await fx.store.tasks.nextRunAt(fx.versionId)).toBe(fx.clock.now() + 500);
    fx.clock.advance(500);
    expect(await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toHaveLength(1);
    const stale = await fx.store.tasks.completeTask({ id: t.id, attempt: 1 }, { status: 'SUCCEEDED', output: 'late' }, 500);
    expect(stale.accepted).toBe(false);
    const done = await fx.store.tasks.completeTask({ id: t.id, attempt: 2 }, { status: 'SUCCEEDED', output: { ok: true } }, 500);
    expect(done.task).toMatchObject({ status: 'SUCCEEDED', output: { ok: true }, progress: 100 });
    const twice = await fx.store.tasks.completeTask({ id: t.id, attempt: 2 }, { status: 'SUCCEEDED', output: 'again' }, 500);
    expect(twice.accepted).toBe(false);
    expect((await fx.store.tasks.getTask(fx.tenantId, t.id))!.output).toEqual({ ok: true });
  });

  it('leases the head of the queue to a waiting instance in the same step as an enqueue', async () => {
    const inst = await fx.idleInstance();
    const claimFor = { instanceId: inst.id, limit: 1, leaseMs: 1000 };
    const a = fx.taskOf({ idempotencyKey: 'k' });
    const first = await fx.store.tasks.enqueueTask({ task: a, requestHash: 'h' }, claimFor);
    expect(first).toMatchObject({ created: true, task: { id: a.id, status: 'RUNNING', instanceId: inst.id }, claimed: [{ id: a.id }] });
    // An older queued task goes first: the new one stays queued.
    const [b, c] = [fx.taskOf(), fx.taskOf()];
    await fx.store.tasks.enqueueTask({ task: b, requestHash: null });
    const third = await fx.store.tasks.enqueueTask({ task: c, requestHash: null }, claimFor);
    expect(third).toMatchObject({ created: true, task: { id: c.id, status: 'QUEUED' }, claimed: [{ id: b.id, status: 'RUNNING' }] });
    // A repeated key claims nothing; neither does an instance that is not IDLE.
    expect(await fx.store.tasks.enqueueTask({ task: fx.taskOf({ idempotencyKey: 'k' }), requestHash: 'h' }, claimFor)).toMatchObject({ created: false, task: { id: a.id } });
    await fx.store.fleet.moveInstance(inst.id, ['IDLE'], 'DRAINING', 'scale-in');
    expect(await fx.store.tasks.enqueueTask({ task: fx.taskOf(), requestHash: null }, claimFor)).toMatchObject({ created: true, task: { status: 'QUEUED' }, claimed: [] });
    expect(await fx.store.tasks.versionLoad(fx.versionId)).toEqual({ queued: 2, running: 2 });
  });

  it('claims the next task in the same step as a completion, even when the result is refused', async () => {
    const [a, b, c] = [fx.taskOf(), fx.taskOf(), fx.taskOf()];
    for (const t of [a, b, c]) await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
    const next = { instanceId: inst.id, limit: 1, leaseMs: 1000 };
    const done = await fx.store.tasks.completeTask({ id: a.id, attempt: 1 }, { status: 'SUCCEEDED', output: 1 }, 500, next);
    expect(done).toMatchObject({ accepted: true, task: { id: a.id, status: 'SUCCEEDED' }, claimed: [{ id: b.id, status: 'RUNNING', instanceId: inst.id }] });
    const stale = await fx.store.tasks.completeTask({ id: a.id, attempt: 1 }, { status: 'SUCCEEDED', output: 2 }, 500, next);
    expect(stale).toMatchObject({ accepted: false, claimed: [{ id: c.id }] });
    expect((await fx.store.tasks.completeTask({ id: b.id, attempt: 1 }, { status: 'SUCCEEDED', output: 3 }, 500)).claimed).toEqual([]);
    expect(await fx.store.tasks.versionLoad(fx.versionId)).toEqual({ queued: 0, running: 1 });
  });

  it('renews held leases, reports cancels and losses, and reclaims expired leases as a new attempt', async () => {
    const a = fx.taskOf();
    const b = fx.taskOf();
    for (const t of [a, b]) await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 2, leaseMs: 1000 });
    expect((await fx.store.tasks.requestCancel(fx.tenantId, b.id))!.task.status).toBe('CANCELLING');
    const report = await fx.store.tasks.renewLeases(inst.id, [{ id: a.id, attempt: 1 }, { id: b.id, attempt: 1 }, { id: 'task_gone', attempt: 1 }], 1000);
    expect(report.cancel).toEqual([{ id: b.id, attempt: 1 }]);
    expect(report.lost).toEqual([{ id: 'task_gone', attempt: 1 }]);
    fx.clock.advance(999);
    expect(await fx.store.tasks.reclaimExpiredLeases(10)).toEqual([]);
    fx.clock.advance(2);
    const reclaimed = await fx.store.tasks.reclaimExpiredLeases(10);
    const byId = new Map(reclaimed.map((r) => [r.task.id, r]));
    expect(byId.get(a.id)).toMatchObject({ status: 'QUEUED', task: { attempt: 2, lostAttempts: 1, error: { code: 'LEASE_EXPIRED' } }, taken: { attempt: 1, instanceId: inst.id } });
    expect(byId.get(b.id)!.status).toBe('CANCELLED');
    expect((await fx.store.tasks.renewLeases(inst.id, [{ id: a.id, attempt: 1 }], 1000)).lost).toHaveLength(1);
  });

  it('cancels a queued task at once and expires old queued tasks', async () => {
    const t = fx.taskOf();
    const old = fx.taskOf({ expiresAt: fx.clock.now() + 10 });
    for (const x of [t, old]) await fx.store.tasks.enqueueTask({ task: x, requestHash: null });
    expect(await fx.store.tasks.requestCancel(fx.tenantId, t.id)).toMatchObject({ previous: 'QUEUED', task: { status: 'CANCELLED' } });
    expect((await fx.store.tasks.requestCancel(fx.tenantId, t.id))!.previous).toBe('CANCELLED');
    expect(await fx.store.tasks.requestCancel(fx.otherTenant, t.id)).toBeNull();
    fx.clock.advance(10);
    expect((await fx.store.tasks.expireQueuedTasks(10)).map((x) => x.id)).toEqual([old.id]);
    expect((await fx.store.tasks.queueCounts({ versionId: fx.versionId })).byStatus).toMatchObject({ CANCELLED: 1, EXPIRED: 1 });
  });

  it('keeps progress and logs of the current attempt only, in order', async () => {
    const t = fx.taskOf();
    await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
    const inst = await fx.idleInstance();
    await fx.store.tasks.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
    expect(await fx.store.tasks.reportProgress({ id: t.id, attempt: 1 }, { progress: 40, message: 'half', partialOutput: [1] })).toBe(true);
    expect(await fx.store.tasks.reportProgress({ id: t.id, attempt: 7 }, { progress: 90 })).toBe(false);
    await fx.store.tasks.appendLogs({ id: t.id, attempt: 1 }, [
      { stream: 'stdout', text: 'one', at: 1 },
      { stream: 'stderr', text: 'two', at: 2 },
    ]);
    const logs = await fx.store.tasks.getLogs(fx.tenantId, t.id, 0, 10);
    expect(logs.map((l) => l.text)).toEqual(['one', 'two']);
    expect(await fx.store.tasks.getLogs(fx.tenantId, t.id, logs[0]!.seq, 10)).toHaveLength(1);
    expect(await fx.store.tasks.getLogs(fx.otherTenant, t.id, 0, 10)).toEqual([]);
    expect(await fx.store.tasks.getTask(fx.tenantId, t.id)).toMatchObject({ progress: 40, progressMessage: 'half', partialOutput: [1] });
  });

  it('pages task history newest first with filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = fx.taskOf();
      ids.push(t.id);
      await fx.store.tasks.enqueueTask({ task: t, requestHash: null });
      fx.clock.advance(1);
    }
    const first = await fx.store.tasks.listTasks(fx.tenantId, { statuses: ['QUEUED'] }, { limit: 3 });
    expect(first.items.map((t) => t.id)).toEqual(ids.slice(2).reverse());
    const second = await fx.store.tasks.listTasks(fx.tenantId, { statuses: ['QUEUED'] }, { limit: 3, cursor: first.nextCursor });
    expect(second.items.map((t) => t.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.nextCursor).toBeNull();
    expect((await fx.store.tasks.listTasks(fx.otherTenant, {}, { limit: 10 })).items).toEqual([]);
    await expect(fx.store.tasks.listTasks(fx.tenantId, {}, { limit: 3, cursor: 'nonsense!' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
}
