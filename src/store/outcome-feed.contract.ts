import { expect, it } from 'vitest';
import { type TaskOutcome, outcomeId } from '../core/outcomes.js';
import { TASK_ERRORS, taskError } from '../core/task-errors.js';
import type { TaskRecord } from '../core/types.js';
import type { ContractFixture } from './fixture.contract.js';
import type { Store } from './store.js';

/** Every outcome past the consumer's cursor, read and acknowledged in batches of `batch`. */
async function drain(store: Store, consumer: string, batch: number): Promise<TaskOutcome[]> {
  const all: TaskOutcome[] = [];
  for (;;) {
    const outcomes = await store.outcomes.readOutcomes(consumer, batch);
    if (outcomes.length === 0) return all;
    all.push(...outcomes);
    await store.outcomes.ackOutcomes(consumer, outcomes[outcomes.length - 1]!);
  }
}

type Expected = Pick<TaskOutcome, 'attempt' | 'status' | 'errorCode'> & { ran: boolean };

/** The OutcomeFeed slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function outcomeFeedContract(fx: ContractFixture): void {
  it('records every ended attempt of 2,000 tasks once, in order per task, as their records say, across retries, cancels, timeouts, lost leases and expiry', async () => {
    const { store, clock } = fx;
    await store.outcomes.registerConsumer('contract');
    // Eight fates, 250 tasks each; what each one's outcomes must be, attempt by attempt.
    const fates: Expected[][] = [
      [{ attempt: 1, status: 'CANCELLED', errorCode: 'CANCELLED', ran: false }],
      [{ attempt: 1, status: 'EXPIRED', errorCode: 'EXPIRED', ran: false }],
      [{ attempt: 1, status: 'SUCCEEDED', errorCode: null, ran: true }],
      [{ attempt: 1, status: 'QUEUED', errorCode: 'EXIT_CODE', ran: true }, { attempt: 2, status: 'SUCCEEDED', errorCode: null, ran: true }],
      [{ attempt: 1, status: 'QUEUED', errorCode: 'TIMED_OUT', ran: true }, { attempt: 2, status: 'TIMED_OUT', errorCode: 'TIMED_OUT', ran: true }],
      [{ attempt: 1, status: 'CANCELLED', errorCode: 'CANCELLED', ran: true }],
      [{ attempt: 1, status: 'QUEUED', errorCode: 'LEASE_EXPIRED', ran: true }, { attempt: 2, status: 'SUCCEEDED', errorCode: null, ran: true }],
      [{ attempt: 1, status: 'FAILED', errorCode: 'EXIT_CODE', ran: true }],
    ];
    const tasks: TaskRecord[] = [];
    for (let i = 0; i < 2_000; i++) {
      const fate = i % fates.length;
      const t = fx.taskOf({ maxAttempts: fate === 7 ? 1 : 2, ...(fate === 1 ? { expiresAt: clock.now() + 10 } : {}) });
      tasks.push(t);
      await store.tasks.enqueueTask({ task: t, requestHash: null });
    }
    const fateOf = new Map(tasks.map((t, i) => [t.id, i % fates.length]));
    for (const t of tasks.filter((t) => fateOf.get(t.id) === 0)) await store.tasks.requestCancel(fx.tenantId, t.id);
    clock.advance(10);
    while ((await store.tasks.expireQueuedTasks(100)).length > 0);

    const failed = taskError('EXIT_CODE', 'exit 3', { exitCode: 3 });
    const inst = await fx.idleInstance();
    const first = await store.tasks.claimTasks({ instanceId: inst.id, limit: 2_000, leaseMs: 60_000 });
    expect(first).toHaveLength(1_500);
    for (const t of first) {
      const ref = { id: t.id, attempt: 1 };
      switch (fateOf.get(t.id)) {
        case 2:
          await store.tasks.completeTask(ref, { status: 'SUCCEEDED', output: t.id }, 500);
          break;
        case 3:
        case 7:
          await store.tasks.completeTask(ref, { status: 'FAILED', error: failed }, 500);
          break;
        case 4:
          await store.tasks.completeTask(ref, { status: 'TIMED_OUT', error: TASK_ERRORS.timedOut(60) }, 500);
          break;
        case 5:
          await store.tasks.requestCancel(fx.tenantId, t.id);
          await store.tasks.completeTask(ref, { status: 'CANCELLED', error: TASK_ERRORS.cancelled() }, 500);
          break;
      }
    }
    // Fate 6's agent is gone: its leases run out and its tasks go back to the queue.
    clock.advance(60_001);
    while ((await store.tasks.reclaimExpiredLeases(200)).length > 0);
    const second = await store.tasks.claimTasks({ instanceId: inst.id, limit: 2_000, leaseMs: 60_000 });
    expect(second).toHaveLength(750);
    for (const t of second) {
      const outcome = fateOf.get(t.id) === 4 ? { status: 'TIMED_OUT' as const, error: TASK_ERRORS.timedOut(60) } : { status: 'SUCCEEDED' as const, output: t.id };
      await store.tasks.completeTask({ id: t.id, attempt: 2 }, outcome, 500);
    }

    const delivered = await drain(store, 'contract', 97);
    expect(delivered).toHaveLength(2_750);
    expect(new Set(delivered.map((o) => o.id)).size).toBe(2_750);
    const byTask = new Map<string, TaskOutcome[]>();
    for (const o of delivered) byTask.set(o.taskId, [...(byTask.get(o.taskId) ?? []), o]);
    for (const t of tasks) {
      const record = (await store.tasks.getTask(fx.tenantId, t.id))!;
      const outcomes = byTask.get(t.id)!;
      const expected = fates[fateOf.get(t.id)!]!;
      expect(outcomes.map(({ attempt, status, errorCode }) => ({ attempt, status, errorCode }))).toEqual(expected.map(({ ran: _, ...e }) => e));
      const last = outcomes[outcomes.length - 1]!;
      // The last outcome is the task's record as it ended.
      expect(last).toMatchObject({
        id: outcomeId(t.id, record.attempt),
        tenantId: fx.tenantId,
        functionId: fx.functionId,
        versionId: fx.versionId,
        attempt: record.attempt,
        status: record.status,
        errorCode: record.error?.code ?? null,
        createdAt: record.createdAt,
        startedAt: expected[expected.length - 1]!.ran ? record.startedAt : null,
        at: record.finishedAt,
      });
    }
    expect(await store.outcomes.readOutcomes('contract', 10)).toEqual([]);
  });

  it('hands out again what was not acknowledged, under the same ids, never moves a cursor back, and prunes what every consumer is past', async () => {
    const { store, clock } = fx;
    await store.outcomes.registerConsumer('a');
    await store.outcomes.registerConsumer('b');
    const tasks = [0, 1, 2, 3, 4].map(() => fx.taskOf());
    for (const t of tasks) {
      await store.tasks.enqueueTask({ task: t, requestHash: null });
      await store.tasks.requestCancel(fx.tenantId, t.id);
      clock.advance(1);
    }
    const ids = tasks.map((t) => outcomeId(t.id, 1));
    const read = async (consumer: string, limit = 10): Promise<string[]> => (await store.outcomes.readOutcomes(consumer, limit)).map((o) => o.id);

    const firstRead = await store.outcomes.readOutcomes('a', 3);
    expect(firstRead.map((o) => o.id)).toEqual(ids.slice(0, 3));
    expect(await read('a', 3)).toEqual(ids.slice(0, 3));
    await store.outcomes.ackOutcomes('a', firstRead[1]!);
    expect(await read('a')).toEqual(ids.slice(2));
    await store.outcomes.ackOutcomes('a', firstRead[0]!);
    expect(await read('a')).toEqual(ids.slice(2));
    // Registering again keeps the cursor.
    await store.outcomes.registerConsumer('a');
    expect(await read('a')).toEqual(ids.slice(2));

    // b has read nothing: nothing goes, however far a is.
    expect(await store.outcomes.pruneOutcomes(0)).toBe(0);
    const all = await store.outcomes.readOutcomes('b', 10);
    await store.outcomes.ackOutcomes('b', all[4]!);
    expect(await store.outcomes.pruneOutcomes(0)).toBe(2);
    expect(await read('a')).toEqual(ids.slice(2));
    // Past the retention, outcomes go whatever the cursors say; a consumer that comes later starts at what is kept.
    expect(await store.outcomes.pruneOutcomes(all[3]!.at)).toBe(1);
    await store.outcomes.registerConsumer('late');
    expect(await read('late')).toEqual(ids.slice(3));

    await expect(store.outcomes.readOutcomes('nobody', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.outcomes.ackOutcomes('nobody', all[0]!)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
}
