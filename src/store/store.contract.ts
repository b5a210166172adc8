import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import { newTask } from '../core/new-task.js';
import type { InstanceRecord, TaskRecord, VersionSpec } from '../core/types.js';
import type { Store } from './store.js';

/** A clock the contract moves by hand, so lease expiry and back-off are tested without sleeping. */
export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The version spec of the contract's function; adapters' own suites may reuse it. */
export const CONTRACT_SPEC: VersionSpec = {
  mode: 'job',
  runtime: { type: 'process' },
  job: { command: ['true'], output: 'file' },
  resources: { gpus: 0 },
  concurrency: 2,
  timeoutSeconds: 60,
  maxQueuedSeconds: 3600,
  retries: 1,
  stopGraceSeconds: 5,
};

/**
 * The store contract: every adapter must pass it unchanged (STYLE.md 2). `makeStore` gets a
 * clock the suite controls and returns a fresh, empty store.
 */
export function runStoreContract(name: string, makeStore: (clock: ManualClock) => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let clock: ManualClock;
    const tenantId = 'ten_a';
    const otherTenant = 'ten_b';
    let functionId: string;
    let versionId: string;

    beforeEach(async () => {
      clock = new ManualClock();
      store = await makeStore(clock);
      for (const id of [tenantId, otherTenant]) {
        await store.createTenant(
          { id, name: id, system: id === tenantId, createdAt: clock.now() },
          { id: newId('key'), tenantId: id, name: 'admin', scope: 'admin', hash: `hash-${id}`, createdAt: clock.now() },
        );
      }
      functionId = newId('fn');
      const v = await store.createFunction(
        { id: functionId, tenantId, name: 'echo', description: '', tags: ['t'], createdAt: clock.now() },
        { id: newId('ver'), tenantId, functionId, spec: CONTRACT_SPEC, createdAt: clock.now() },
      );
      versionId = v.id;
      await store.upsertNode({ id: 'node_1', name: 'n1', gpus: [], state: 'READY', lastSeenAt: clock.now(), createdAt: clock.now() });
    });

    afterEach(async () => {
      await store.close();
    });

    function taskOf(over: Partial<TaskRecord> = {}): TaskRecord {
      const fields = { tenantId, functionId, versionId, taskType: 'command' as const, input: { n: 1 }, priority: 0, maxAttempts: 2, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 3_600_000 };
      return { ...newTask(fields, clock.now()), ...over };
    }

    async function idleInstance(): Promise<InstanceRecord> {
      const inst: InstanceRecord = {
        id: newId('ins'),
        tenantId,
        functionId,
        versionId,
        nodeId: 'node_1',
        state: 'STARTING',
        gpus: [],
        reason: null,
        createdAt: clock.now(),
        readyAt: null,
        endedAt: null,
      };
      await store.createInstance(inst);
      return (await store.moveInstance(inst.id, ['STARTING'], 'IDLE', null))!;
    }

    it('refuses a taken tenant name', async () => {
      const again = { id: newId('ten'), name: tenantId, system: false, createdAt: clock.now() };
      await expect(store.createTenant(again, { id: newId('key'), tenantId: again.id, name: 'admin', scope: 'admin', hash: 'hash-again', createdAt: 0 })).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
      expect(await store.countTenants()).toBe(2);
    });

    it('keeps functions per tenant and refuses a taken name', async () => {
      expect((await store.getFunction(tenantId, 'echo'))?.id).toBe(functionId);
      expect(await store.getFunction(otherTenant, functionId)).toBeNull();
      await expect(
        store.createFunction(
          { id: newId('fn'), tenantId, name: 'echo', description: '', tags: [], createdAt: 0 },
          { id: newId('ver'), tenantId, functionId: 'x', spec: CONTRACT_SPEC, createdAt: 0 },
        ),
      ).rejects.toMatchObject({ code: 'FUNCTION_EXISTS' });
      const v2 = await store.addVersion({ id: newId('ver'), tenantId, functionId, spec: CONTRACT_SPEC, createdAt: 0 });
      expect(v2.number).toBe(2);
      const page1 = await store.listVersions(tenantId, functionId, { limit: 1 });
      expect(page1.items).toHaveLength(1);
      const page2 = await store.listVersions(tenantId, functionId, { limit: 1, cursor: page1.nextCursor });
      expect(page2.items[0]!.id).not.toBe(page1.items[0]!.id);
      expect(page2.nextCursor).toBeNull();
    });

    it('stores a task, returns the same task for a reused idempotency key, and hides it from other tenants', async () => {
      const t = taskOf({ idempotencyKey: 'k1' });
      expect((await store.enqueueTask({ task: t, requestHash: 'h' })).created).toBe(true);
      const again = await store.enqueueTask({ task: taskOf({ idempotencyKey: 'k1' }), requestHash: 'h' });
      expect(again).toMatchObject({ created: false, sameRequest: true });
      expect(again.task.id).toBe(t.id);
      const other = await store.enqueueTask({ task: taskOf({ idempotencyKey: 'k1' }), requestHash: 'other' });
      expect(other).toMatchObject({ created: false, sameRequest: false });
      expect(await store.getTask(otherTenant, t.id)).toBeNull();
      expect((await store.getTask(tenantId, t.id))?.input).toEqual({ n: 1 });
    });

    it('claims by priority then age, counts positions, and claims nothing for a draining instance', async () => {
      const low = taskOf();
      clock.advance(1);
      const high = taskOf({ priority: 5 });
      clock.advance(1);
      const low2 = taskOf();
      for (const t of [low, high, low2]) await store.enqueueTask({ task: t, requestHash: null });
      expect(await store.taskPosition(high)).toBe(0);
      expect(await store.taskPosition(low)).toBe(1);
      expect(await store.taskPosition(low2)).toBe(2);
      const inst = await idleInstance();
      const claimed = await store.claimTasks({ instanceId: inst.id, limit: 2, leaseMs: 1000 });
      expect(claimed.map((t) => t.id)).toEqual([high.id, low.id]);
      expect(claimed[0]).toMatchObject({ status: 'RUNNING', instanceId: inst.id, nodeId: 'node_1' });
      expect(await store.taskPosition(low2)).toBe(0);
      expect((await store.countLeasedTasks([inst.id])).get(inst.id)).toBe(2);
      expect(await store.versionLoad(versionId)).toEqual({ queued: 1, running: 2 });
      await store.moveInstance(inst.id, ['IDLE'], 'DRAINING', 'scale-in');
      expect(await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toEqual([]);
    });

    it('counts positions and queue length exactly across thousands of tasks, after claims, cancels and re-queues', async () => {
      // Enough tasks to span several of an adapter's internal blocks, with three priorities.
      const tasks: TaskRecord[] = [];
      for (let i = 0; i < 2_600; i++) {
        const t = taskOf({ priority: [0, 5, -3][i % 3]! });
        tasks.push(t);
        await store.enqueueTask({ task: t, requestHash: null });
      }
      const inst = await idleInstance();
      const claimed = await store.claimTasks({ instanceId: inst.id, limit: 700, leaseMs: 60_000 });
      for (const t of tasks.filter((_, i) => i % 7 === 0)) await store.requestCancel(tenantId, t.id);
      // Some claimed tasks come back to the queue, at their old place.
      await store.releaseInstanceTasks([inst.id], 'requeue');
      const stored = new Map<string, TaskRecord>();
      for (const t of tasks) stored.set(t.id, (await store.getTask(tenantId, t.id))!);
      // Claim order is priority, then submission order: the brute-force position is the index in it.
      const queued = tasks.filter((t) => stored.get(t.id)!.status === 'QUEUED').sort((a, b) => b.priority - a.priority || tasks.indexOf(a) - tasks.indexOf(b));
      expect(claimed).toHaveLength(700);
      expect((await store.versionLoad(versionId)).queued).toBe(queued.length);
      for (const [i, t] of queued.entries()) if (i % 37 === 0 || i === queued.length - 1) expect(await store.taskPosition(t)).toBe(i);
    });

    it('records a result once, rejects a stale attempt, and retries a failure with back-off', async () => {
      const t = taskOf();
      await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
      const failed = await store.completeTask({ id: t.id, attempt: 1 }, { status: 'FAILED', error: { code: 'EXIT', message: 'exit 3', exitCode: 3 } }, 500);
      expect(failed.accepted).toBe(true);
      expect(failed.task).toMatchObject({ status: 'QUEUED', attempt: 2, error: { exitCode: 3 } });
      expect(await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toEqual([]);
      expect(await store.nextRunAt(versionId)).toBe(clock.now() + 500);
      clock.advance(500);
      expect(await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 })).toHaveLength(1);
      const stale = await store.completeTask({ id: t.id, attempt: 1 }, { status: 'SUCCEEDED', output: 'late' }, 500);
      expect(stale.accepted).toBe(false);
      const done = await store.completeTask({ id: t.id, attempt: 2 }, { status: 'SUCCEEDED', output: { ok: true } }, 500);
      expect(done.task).toMatchObject({ status: 'SUCCEEDED', output: { ok: true }, progress: 100 });
      const twice = await store.completeTask({ id: t.id, attempt: 2 }, { status: 'SUCCEEDED', output: 'again' }, 500);
      expect(twice.accepted).toBe(false);
      expect((await store.getTask(tenantId, t.id))!.output).toEqual({ ok: true });
    });

    it('leases the head of the queue to a waiting instance in the same step as an enqueue', async () => {
      const inst = await idleInstance();
      const claimFor = { instanceId: inst.id, limit: 1, leaseMs: 1000 };
      const a = taskOf({ idempotencyKey: 'k' });
      const first = await store.enqueueTask({ task: a, requestHash: 'h' }, claimFor);
      expect(first).toMatchObject({ created: true, task: { id: a.id, status: 'RUNNING', instanceId: inst.id }, claimed: [{ id: a.id }] });
      // An older queued task goes first: the new one stays queued.
      const [b, c] = [taskOf(), taskOf()];
      await store.enqueueTask({ task: b, requestHash: null });
      const third = await store.enqueueTask({ task: c, requestHash: null }, claimFor);
      expect(third).toMatchObject({ created: true, task: { id: c.id, status: 'QUEUED' }, claimed: [{ id: b.id, status: 'RUNNING' }] });
      // A repeated key claims nothing; neither does an instance that is not IDLE.
      expect(await store.enqueueTask({ task: taskOf({ idempotencyKey: 'k' }), requestHash: 'h' }, claimFor)).toMatchObject({ created: false, task: { id: a.id } });
      await store.moveInstance(inst.id, ['IDLE'], 'DRAINING', 'scale-in');
      expect(await store.enqueueTask({ task: taskOf(), requestHash: null }, claimFor)).toMatchObject({ created: true, task: { status: 'QUEUED' }, claimed: [] });
      expect(await store.versionLoad(versionId)).toEqual({ queued: 2, running: 2 });
    });

    it('claims the next task in the same step as a completion, even when the result is refused', async () => {
      const [a, b, c] = [taskOf(), taskOf(), taskOf()];
      for (const t of [a, b, c]) await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
      const next = { instanceId: inst.id, limit: 1, leaseMs: 1000 };
      const done = await store.completeTask({ id: a.id, attempt: 1 }, { status: 'SUCCEEDED', output: 1 }, 500, next);
      expect(done).toMatchObject({ accepted: true, task: { id: a.id, status: 'SUCCEEDED' }, claimed: [{ id: b.id, status: 'RUNNING', instanceId: inst.id }] });
      const stale = await store.completeTask({ id: a.id, attempt: 1 }, { status: 'SUCCEEDED', output: 2 }, 500, next);
      expect(stale).toMatchObject({ accepted: false, claimed: [{ id: c.id }] });
      expect((await store.completeTask({ id: b.id, attempt: 1 }, { status: 'SUCCEEDED', output: 3 }, 500)).claimed).toEqual([]);
      expect(await store.versionLoad(versionId)).toEqual({ queued: 0, running: 1 });
    });

    it('renews held leases, reports cancels and losses, and reclaims expired leases as a new attempt', async () => {
      const a = taskOf();
      const b = taskOf();
      for (const t of [a, b]) await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 2, leaseMs: 1000 });
      expect((await store.requestCancel(tenantId, b.id))!.task.status).toBe('CANCELLING');
      const report = await store.renewLeases(inst.id, [{ id: a.id, attempt: 1 }, { id: b.id, attempt: 1 }, { id: 'task_gone', attempt: 1 }], 1000);
      expect(report.cancel).toEqual([{ id: b.id, attempt: 1 }]);
      expect(report.lost).toEqual([{ id: 'task_gone', attempt: 1 }]);
      clock.advance(999);
      expect(await store.reclaimExpiredLeases(10)).toEqual([]);
      clock.advance(2);
      const reclaimed = await store.reclaimExpiredLeases(10);
      const byId = new Map(reclaimed.map((r) => [r.task.id, r]));
      expect(byId.get(a.id)).toMatchObject({ status: 'QUEUED', task: { attempt: 2, lostAttempts: 1, error: { code: 'LEASE_EXPIRED' } }, taken: { attempt: 1, instanceId: inst.id } });
      expect(byId.get(b.id)!.status).toBe('CANCELLED');
      expect((await store.renewLeases(inst.id, [{ id: a.id, attempt: 1 }], 1000)).lost).toHaveLength(1);
    });

    it('cancels a queued task at once and expires old queued tasks', async () => {
      const t = taskOf();
      const old = taskOf({ expiresAt: clock.now() + 10 });
      for (const x of [t, old]) await store.enqueueTask({ task: x, requestHash: null });
      expect(await store.requestCancel(tenantId, t.id)).toMatchObject({ previous: 'QUEUED', task: { status: 'CANCELLED' } });
      expect((await store.requestCancel(tenantId, t.id))!.previous).toBe('CANCELLED');
      expect(await store.requestCancel(otherTenant, t.id)).toBeNull();
      clock.advance(10);
      expect((await store.expireQueuedTasks(10)).map((x) => x.id)).toEqual([old.id]);
      expect((await store.queueCounts({ versionId })).byStatus).toMatchObject({ CANCELLED: 1, EXPIRED: 1 });
    });

    it('fails a node’s instances and re-queues their tasks at once', async () => {
      const t = taskOf();
      await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 60_000 });
      const { instances, tasks } = await store.failNodeInstances('node_1', 'agent restarted');
      expect(instances.map((i) => i.state)).toEqual(['FAILED']);
      expect(tasks[0]).toMatchObject({ status: 'QUEUED', task: { attempt: 2, error: { code: 'NODE_LOST' } } });
      expect((await store.queueCounts({ versionId })).queued).toBe(1);
    });

    it('declares silent nodes lost, fails their instances, leaves their leases to expire, and never revives a lost node', async () => {
      const t = taskOf();
      await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 60_000 });
      clock.advance(5_000);
      await store.upsertNode({ id: 'node_2', name: 'n2', gpus: [], state: 'READY', lastSeenAt: clock.now() - 4_000, createdAt: clock.now() });
      expect(await store.touchNode('node_2')).toBe('READY');
      const lost = await store.markLostNodes(clock.now() - 3_000, 'no heartbeat for 3 s');
      expect(lost.nodes.map((n) => [n.id, n.state])).toEqual([['node_1', 'LOST']]);
      expect(lost.instances).toMatchObject([{ id: inst.id, state: 'FAILED', reason: 'no heartbeat for 3 s' }]);
      expect((await store.getTask(tenantId, t.id))!.status).toBe('RUNNING');
      expect(await store.touchNode('node_1')).toBe('LOST');
      expect((await store.getNode('node_1'))!.state).toBe('LOST');
      expect(await store.touchNode('node_unknown')).toBeNull();
      clock.advance(1);
      expect((await store.markLostNodes(clock.now(), 'again')).nodes.map((n) => n.id)).toEqual(['node_2']);
      clock.advance(60_001);
      expect(await store.reclaimExpiredLeases(10)).toMatchObject([{ status: 'QUEUED', task: { id: t.id, attempt: 2 } }]);
      await store.upsertNode({ id: 'node_1', name: 'n1', gpus: [], state: 'READY', lastSeenAt: clock.now(), createdAt: 0 });
      expect((await store.getNode('node_1'))!.state).toBe('READY');
    });

    it('keeps progress and logs of the current attempt only, in order', async () => {
      const t = taskOf();
      await store.enqueueTask({ task: t, requestHash: null });
      const inst = await idleInstance();
      await store.claimTasks({ instanceId: inst.id, limit: 1, leaseMs: 1000 });
      expect(await store.reportProgress({ id: t.id, attempt: 1 }, { progress: 40, message: 'half', partialOutput: [1] })).toBe(true);
      expect(await store.reportProgress({ id: t.id, attempt: 7 }, { progress: 90 })).toBe(false);
      await store.appendLogs({ id: t.id, attempt: 1 }, [
        { stream: 'stdout', text: 'one', at: 1 },
        { stream: 'stderr', text: 'two', at: 2 },
      ]);
      const logs = await store.getLogs(tenantId, t.id, 0, 10);
      expect(logs.map((l) => l.text)).toEqual(['one', 'two']);
      expect(await store.getLogs(tenantId, t.id, logs[0]!.seq, 10)).toHaveLength(1);
      expect(await store.getLogs(otherTenant, t.id, 0, 10)).toEqual([]);
      expect(await store.getTask(tenantId, t.id)).toMatchObject({ progress: 40, progressMessage: 'half', partialOutput: [1] });
    });

    it('pages task history newest first with filters', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const t = taskOf();
        ids.push(t.id);
        await store.enqueueTask({ task: t, requestHash: null });
        clock.advance(1);
      }
      const first = await store.listTasks(tenantId, { statuses: ['QUEUED'] }, { limit: 3 });
      expect(first.items.map((t) => t.id)).toEqual(ids.slice(2).reverse());
      const second = await store.listTasks(tenantId, { statuses: ['QUEUED'] }, { limit: 3, cursor: first.nextCursor });
      expect(second.items.map((t) => t.id)).toEqual(ids.slice(0, 2).reverse());
      expect(second.nextCursor).toBeNull();
      expect((await store.listTasks(otherTenant, {}, { limit: 10 })).items).toEqual([]);
      await expect(store.listTasks(tenantId, {}, { limit: 3, cursor: 'nonsense!' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    });

    it('lists a tenant’s deployment events in order after a sequence number, by function and version', async () => {
      const theirFunction = newId('fn');
      const other = await store.createFunction(
        { id: theirFunction, tenantId: otherTenant, name: 'theirs', description: '', tags: [], createdAt: 0 },
        { id: newId('ver'), tenantId: otherTenant, functionId: theirFunction, spec: CONTRACT_SPEC, createdAt: 0 },
      );
      const v2 = await store.addVersion({ id: newId('ver'), tenantId, functionId, spec: CONTRACT_SPEC, createdAt: 0 });
      const event = (version: string, to: string) => ({ versionId: version, at: clock.now(), kind: 'instance' as const, subject: 'ins_1', from: 'STARTING', to, reason: to });
      await store.addDeploymentEvent(event(versionId, 'IDLE'));
      await store.addDeploymentEvent(event(other.id, 'IDLE'));
      await store.addDeploymentEvent(event(v2.id, 'BUSY'));
      await store.addDeploymentEvent(event(versionId, 'STOPPED'));

      const all = await store.listFleetEvents(tenantId, { afterSeq: 0 }, 10);
      expect(await store.lastFleetEventSeq()).toBeGreaterThanOrEqual(all[all.length - 1]!.seq);
      expect(all.map((e) => [e.versionId, e.to, e.functionId])).toEqual([
        [versionId, 'IDLE', functionId],
        [v2.id, 'BUSY', functionId],
        [versionId, 'STOPPED', functionId],
      ]);
      expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
      expect((await store.listFleetEvents(tenantId, { afterSeq: all[0]!.seq }, 1)).map((e) => e.to)).toEqual(['BUSY']);
      expect((await store.listFleetEvents(tenantId, { afterSeq: 0, versionId }, 10)).map((e) => e.to)).toEqual(['IDLE', 'STOPPED']);
      expect(await store.listFleetEvents(tenantId, { afterSeq: 0, functionId: theirFunction }, 10)).toEqual([]);
      expect((await store.listFleetEvents(otherTenant, { afterSeq: 0 }, 10)).map((e) => e.versionId)).toEqual([other.id]);
    });

    it('keeps load samples per version in time order, the newest when capped, and prunes old ones', async () => {
      const sample = (at: number, queued: number, version = versionId) => ({ versionId: version, at, queued, running: 1, instances: 2, desired: 3 });
      for (const at of [3000, 1000, 2000]) await store.addLoadSample(sample(at, at / 1000));
      await store.addLoadSample(sample(1500, 9, 'ver_other'));
      expect((await store.listLoadSamples(versionId, 0, 10)).map((s) => [s.at, s.queued])).toEqual([[1000, 1], [2000, 2], [3000, 3]]);
      expect(await store.listLoadSamples(versionId, 2000, 10)).toEqual([sample(2000, 2), sample(3000, 3)]);
      expect((await store.listLoadSamples(versionId, 0, 2)).map((s) => s.at)).toEqual([2000, 3000]);
      expect(await store.pruneLoadSamples(2000)).toBe(2);
      expect((await store.listLoadSamples(versionId, 0, 10)).map((s) => s.at)).toEqual([2000, 3000]);
      expect(await store.listLoadSamples('ver_other', 0, 10)).toEqual([]);
    });

    it('refuses to delete a deployed version or function', async () => {
      const now = clock.now();
      await store.putDeployment({
        tenantId, functionId, versionId, state: 'ACTIVE', reason: null, minInstances: 0, maxInstances: 1, targetPerInstance: 1,
        scaleDownDelaySeconds: 1, scaleToZeroAfterSeconds: 1, createdAt: now, updatedAt: now,
      });
      await expect(store.deleteVersion(tenantId, versionId)).rejects.toMatchObject({ code: 'VERSION_DEPLOYED' });
      await expect(store.deleteFunction(tenantId, functionId)).rejects.toMatchObject({ code: 'FUNCTION_DEPLOYED' });
      expect(await store.setDeploymentState(versionId, ['ACTIVE'], 'INACTIVE', 'undeployed')).toBe(true);
      await store.deleteFunction(tenantId, functionId);
      expect(await store.getVersion(tenantId, versionId)).toBeNull();
    });
  });
}
