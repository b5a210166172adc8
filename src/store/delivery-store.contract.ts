import { expect, it } from 'vitest';
import { type DeliveryRecord, deliveryId } from '../core/destinations.js';
import type { ContractFixture } from './fixture.contract.js';

/** The DeliveryStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function deliveryStoreContract(fx: ContractFixture): void {
  let n = 0;
  const deliveryOf = (over: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
    id: deliveryId(`task_${++n}.1`),
    tenantId: fx.tenantId,
    taskId: `task_${n}`,
    event: 'success',
    kind: 'webhook',
    destination: { webhook: { url: 'http://127.0.0.1:9/hook', secret: 'whsec_x' } },
    payload: '{"type":"task.succeeded"}',
    depth: 0,
    status: 'PENDING',
    attempts: 0,
    nextAttemptAt: 1000,
    deadline: 100_000,
    lastError: null,
    lastStatusCode: null,
    resultTaskId: null,
    resultExecutionId: null,
    createdAt: 1000,
    endedAt: null,
    ...over,
  });

  it('stores a delivery once per id, hands out the due ones soonest first, and tells when the next is due', async () => {
    const late = deliveryOf({ nextAttemptAt: 5000 });
    const soon = deliveryOf({ nextAttemptAt: 2000 });
    await fx.store.deliveries.addDeliveries([late, soon]);
    await fx.store.deliveries.addDeliveries([{ ...soon, payload: 'changed' }]);
    expect(await fx.store.deliveries.nextDeliveryAt()).toBe(2000);
    expect(await fx.store.deliveries.dueDeliveries(1999, 10)).toEqual([]);
    expect(await fx.store.deliveries.dueDeliveries(6000, 10)).toEqual([soon, late]);
    expect(await fx.store.deliveries.dueDeliveries(6000, 1)).toEqual([soon]);
  });

  it('records each attempt while PENDING, and none once delivered or dead; lists a task’s deliveries with their attempts', async () => {
    const d = deliveryOf({ kind: 'function', destination: { function: { functionId: 'fn_b' } } });
    await fx.store.deliveries.addDeliveries([d]);
    expect(await fx.store.deliveries.recordDeliveryAttempt(d.id, { at: 1000, statusCode: 500, error: 'HTTP 500', durationMs: 4 }, { status: 'PENDING', nextAttemptAt: 3000 })).toBe(true);
    expect(await fx.store.deliveries.recordDeliveryAttempt(d.id, { at: 3000, statusCode: null, error: null, durationMs: 2 }, { status: 'DELIVERED', nextAttemptAt: null, resultTaskId: 'task_next' })).toBe(true);
    expect(await fx.store.deliveries.recordDeliveryAttempt(d.id, { at: 4000, statusCode: 200, error: null, durationMs: 1 }, { status: 'DELIVERED', nextAttemptAt: null })).toBe(false);
    const [listed, ...rest] = await fx.store.deliveries.listDeliveries(fx.tenantId, d.taskId);
    expect(rest).toEqual([]);
    expect(listed!.delivery).toEqual({ ...d, status: 'DELIVERED', attempts: 2, nextAttemptAt: null, lastError: null, lastStatusCode: null, resultTaskId: 'task_next', endedAt: 3002 });
    expect(listed!.attempts).toEqual([
      { at: 1000, statusCode: 500, error: 'HTTP 500', durationMs: 4 },
      { at: 3000, statusCode: null, error: null, durationMs: 2 },
    ]);
    expect(await fx.store.deliveries.listDeliveries(fx.otherTenant, d.taskId)).toEqual([]);
    expect(await fx.store.deliveries.chainDepth('task_next')).toBe(1);
    expect(await fx.store.deliveries.chainDepth('task_unknown')).toBe(0);
    expect(await fx.store.deliveries.dueDeliveries(10_000, 100)).not.toContainEqual(expect.objectContaining({ id: d.id }));
  });
}
