import { afterAll, describe, expect, it } from 'vitest';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const available = await postgresAvailable();

/* A cron trigger on two replicas of one PostgreSQL store: one task per tick while both run, and on after the leader is SIGKILLed. */
describe.skipIf(!available)('cron trigger on two PostgreSQL replicas, the leader killed -9', () => {
  const schema = freshSchema('ferry_cron');
  const env = { FERRY_PG_SCHEMA: schema, FERRY_LEADER_POLL_MS: '300', FERRY_TRIGGER_POLL_MS: '200' };
  const replicas = [0, 1].map(() => new FerryServer(['--no-agent', '--store', POSTGRES_URL], env));
  afterAll(async () => {
    for (const r of replicas) await r.dispose();
    await dropSchema(schema);
  });

  it('fires each second-tick once, across the leader’s death, the other replica’s takeover and the restart', async () => {
    const [r0, r1] = replicas as [FerryServer, FerryServer];
    await r0.start();
    await r1.start();
    r1.adminKey = r0.adminKey;
    const fn = await r0.client.createFunction(jobFunction('tick'));
    await r0.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    const trigger = await r0.client.triggers.create({ name: 'every-second', functionId: fn.id, kind: 'cron', schedule: '* * * * * *', catchUp: true });

    await sleep(2_500);
    // The first replica to start holds the lead; the other takes it when it dies.
    await r0.kill9();
    await sleep(2_500);
    await r0.start();
    await sleep(2_000);
    await r1.client.triggers.pause(trigger.id);
    // The leader stops its runner a moment after the pause is stored: let a tick in hand finish.
    await sleep(1_500);

    const fires = (await r1.client.triggers.tasks(trigger.id, { limit: 500 })).items.reverse();
    const ticks = fires.map((f) => Number(f.eventKey));
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    ticks.forEach((t, i) => expect(t).toBe(ticks[0]! + i * 1000));
    const tasks = (await r1.client.listTasks({ functionId: fn.id, limit: 500 })).items as Json[];
    expect(tasks.length).toBe(ticks.length);
    expect(new Set(tasks.map((t) => t.idempotencyKey)).size).toBe(tasks.length);
  }, 60_000);
});
