import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { TriggerRecord } from '../core/triggers.js';
import type { ContractFixture } from './fixture.contract.js';

/** The TriggerStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function triggerStoreContract(fx: ContractFixture): void {
  const triggerOf = (over: Partial<TriggerRecord> = {}): TriggerRecord =>
    ({
      id: newId('trg'),
      tenantId: fx.tenantId,
      name: `t-${Math.random().toString(36).slice(2, 8)}`,
      functionId: 'fn_x',
      workflowId: null,
      versionId: null,
      kind: 'cron',
      cron: { schedule: '* * * * * *', timezone: 'UTC', catchUp: true },
      task: { input: { 'at.$': '$.scheduledAt' }, priority: 3 },
      destinations: null,
      state: 'ACTIVE',
      lastFiredAt: null,
      lastError: null,
      fired: 0,
      cursor: null,
      createdAt: fx.clock.now(),
      updatedAt: fx.clock.now(),
      ...over,
    }) as TriggerRecord;

  it('keeps a trigger to its tenant, its name unique there, and lists a tenant’s oldest first in pages', async () => {
    const a = triggerOf({ name: 'nightly' });
    const b = triggerOf({ kind: 'nats', cron: undefined, source: { url: 'nats://127.0.0.1:4222', subject: 'jobs.>' }, destinations: { onSuccess: { webhook: { url: 'http://x', secret: 'whsec_x' } } } } as Partial<TriggerRecord>);
    const c = triggerOf({ kind: 'asset', cron: undefined, filter: { contentType: 'video/*' }, versionId: 'ver_1' } as Partial<TriggerRecord>);
    for (const t of [a, b, c]) await fx.store.triggers.createTrigger(t);
    await fx.store.triggers.createTrigger(triggerOf({ tenantId: fx.otherTenant, name: 'nightly' }));
    await expect(fx.store.triggers.createTrigger(triggerOf({ name: 'nightly' }))).rejects.toMatchObject({ code: 'TRIGGER_EXISTS' });

    expect(await fx.store.triggers.getTrigger(fx.tenantId, b.id)).toEqual(b);
    expect(await fx.store.triggers.getTrigger(fx.otherTenant, b.id)).toBeNull();
    expect(await fx.store.triggers.triggerById(c.id)).toEqual(c);
    const first = await fx.store.triggers.listTriggers(fx.tenantId, { limit: 2 });
    expect(first.items.map((t) => t.id)).toEqual([a.id, b.id]);
    const second = await fx.store.triggers.listTriggers(fx.tenantId, { limit: 2, cursor: first.nextCursor });
    expect([second.items, second.nextCursor]).toEqual([[c], null]);
  });

  it('updates the definition and keeps state, fires and cursor; refuses a taken name', async () => {
    const a = triggerOf({ name: 'a', cursor: '5' });
    const b = triggerOf({ name: 'b' });
    for (const t of [a, b]) await fx.store.triggers.createTrigger(t);
    const cron = { schedule: '0 * * * *', timezone: 'Europe/Paris', catchUp: false };
    const updated = await fx.store.triggers.updateTrigger(fx.tenantId, a.id, { name: 'a2', functionId: 'fn_y', workflowId: null, versionId: 'ver_2', task: {}, destinations: null, cron }, a.createdAt + 5);
    expect(updated).toEqual({ ...a, name: 'a2', functionId: 'fn_y', versionId: 'ver_2', task: {}, cron, updatedAt: a.createdAt + 5 });
    await expect(fx.store.triggers.updateTrigger(fx.tenantId, a.id, { ...updated!, name: 'b' }, 0)).rejects.toMatchObject({ code: 'TRIGGER_EXISTS' });
    expect(await fx.store.triggers.updateTrigger(fx.otherTenant, a.id, updated!, 0)).toBeNull();
  });

  it('pauses and resumes; a runner’s health does not unpause, and resuming clears the error', async () => {
    const a = triggerOf();
    const w = triggerOf({ kind: 'webhook', cron: undefined, webhook: { secret: 'whsec_s' } } as Partial<TriggerRecord>);
    for (const t of [a, w]) await fx.store.triggers.createTrigger(t);
    await fx.store.triggers.setTriggerHealth(a.id, 'ERROR', 'broker down');
    expect(await fx.store.triggers.getTrigger(fx.tenantId, a.id)).toMatchObject({ state: 'ERROR', lastError: 'broker down', updatedAt: a.updatedAt });
    expect((await fx.store.triggers.listRunnableTriggers(['cron'])).map((t) => t.id)).toContain(a.id);

    expect(await fx.store.triggers.setTriggerPaused(fx.tenantId, a.id, true, 11)).toMatchObject({ state: 'PAUSED', lastError: 'broker down' });
    await fx.store.triggers.setTriggerHealth(a.id, 'ACTIVE', null);
    expect(await fx.store.triggers.getTrigger(fx.tenantId, a.id)).toMatchObject({ state: 'PAUSED' });
    expect((await fx.store.triggers.listRunnableTriggers(['cron', 'webhook'])).map((t) => t.id)).toEqual([w.id]);
    expect(await fx.store.triggers.listRunnableTriggers([])).toEqual([]);

    expect(await fx.store.triggers.setTriggerPaused(fx.tenantId, a.id, false, 13)).toMatchObject({ state: 'ACTIVE', lastError: null, updatedAt: 13 });
    // Resuming one that runs changes nothing.
    expect(await fx.store.triggers.setTriggerPaused(fx.tenantId, a.id, false, 14)).toMatchObject({ state: 'ACTIVE', updatedAt: 13 });
    expect(await fx.store.triggers.setTriggerPaused(fx.otherTenant, a.id, true, 15)).toBeNull();
  });

  it('records a fire once per event key, moves the cursor, and lists fires newest first', async () => {
    const a = triggerOf();
    await fx.store.triggers.createTrigger(a);
    await fx.store.triggers.recordFire({ triggerId: a.id, eventKey: '1000', taskId: 'task_1', at: 1000 }, '1000');
    await fx.store.triggers.recordFire({ triggerId: a.id, eventKey: '1000', taskId: 'task_1', at: 1000 }, '1000');
    await fx.store.triggers.recordFire({ triggerId: a.id, eventKey: '2000', taskId: 'task_2', at: 2000 });
    await fx.store.triggers.setTriggerCursor(a.id, '3000');
    expect(await fx.store.triggers.getTrigger(fx.tenantId, a.id)).toMatchObject({ fired: 2, lastFiredAt: 2000, cursor: '3000' });
    const page = await fx.store.triggers.listFires(a.id, { limit: 1 });
    expect(page.items).toEqual([{ triggerId: a.id, eventKey: '2000', taskId: 'task_2', at: 2000 }]);
    expect((await fx.store.triggers.listFires(a.id, { limit: 5, cursor: page.nextCursor })).items.map((f) => f.taskId)).toEqual(['task_1']);

    expect(await fx.store.triggers.deleteTrigger(fx.otherTenant, a.id)).toBe(false);
    expect(await fx.store.triggers.deleteTrigger(fx.tenantId, a.id)).toBe(true);
    expect(await fx.store.triggers.getTrigger(fx.tenantId, a.id)).toBeNull();
    expect((await fx.store.triggers.listFires(a.id, { limit: 5 })).items).toEqual([]);
  });
}
