import { afterEach, describe, expect, it } from 'vitest';
import type { Signal } from '../../core/replicas.js';
import { POSTGRES_URL, freshSchema, postgresAvailable } from '../../../test/helpers/postgres.js';
import { PgLeaderLock } from './leader-lock.js';
import { PgSignalBus } from './signal-bus.js';

const available = await postgresAvailable();

async function until(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

describe.skipIf(!available)('what replicas share through PostgreSQL', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('carries signals to the other replicas of the same schema only, a tick’s repeats folded into one', async () => {
    const schema = freshSchema('ferry_bus');
    const onError = (err: unknown): never => {
      throw err;
    };
    const [a, b, other] = await Promise.all([
      PgSignalBus.connect(POSTGRES_URL, { schema, onError }),
      PgSignalBus.connect(POSTGRES_URL, { schema, onError }),
      PgSignalBus.connect(POSTGRES_URL, { schema: freshSchema('ferry_bus'), onError }),
    ]);
    for (const bus of [a, b, other]) closers.push(() => bus.close());
    const got = new Map<PgSignalBus, Signal[]>([a, b, other].map((bus) => [bus, []]));
    for (const [bus, list] of got) bus.onSignal((s) => list.push(s));

    a.publish({ kind: 'version', versionId: 'ver_1' });
    a.publish({ kind: 'version', versionId: 'ver_1' });
    a.publish({ kind: 'ready', versionId: 'ver_1' });
    a.publish({ kind: 'ready', versionId: 'ver_1' });
    a.publish({ kind: 'cancel', nodeId: 'node_1', ref: { id: 'task_1', attempt: 2 } });
    await until(() => got.get(b)!.length === 4, 5_000);
    expect(got.get(b)).toEqual([
      { kind: 'version', versionId: 'ver_1' },
      { kind: 'ready', versionId: 'ver_1' },
      { kind: 'ready', versionId: 'ver_1' },
      { kind: 'cancel', nodeId: 'node_1', ref: { id: 'task_1', attempt: 2 } },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.get(a)).toEqual([]);
    expect(got.get(other)).toEqual([]);
  });

  it('elects one leader per schema and hands the lead over when it stops', async () => {
    const schema = freshSchema('ferry_lead');
    const leading = new Map<string, boolean>();
    const locks = ['r1', 'r2'].map((name) => {
      const lock = new PgLeaderLock(POSTGRES_URL, schema, 100, (err) => {
        throw err;
      });
      lock.start((leader) => leading.set(name, leader));
      closers.push(() => lock.stop());
      return lock;
    });
    const elsewhere = new PgLeaderLock(POSTGRES_URL, freshSchema('ferry_lead'), 100, () => {});
    let otherLeads = false;
    elsewhere.start((leader) => (otherLeads = leader));
    closers.push(() => elsewhere.stop());

    await until(() => [...leading.values()].some(Boolean) && otherLeads, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    const leaders = [...leading.entries()].filter(([, v]) => v).map(([k]) => k);
    expect(leaders).toHaveLength(1);
    const first = leaders[0] === 'r1' ? 0 : 1;
    await locks[first]!.stop();
    expect(leading.get(leaders[0]!)).toBe(false);
    const handover = await until(() => leading.get(first === 0 ? 'r2' : 'r1') === true, 5_000);
    expect(handover).toBeLessThan(1_000);
  });
});
