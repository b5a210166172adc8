import { afterAll, describe, expect, it } from 'vitest';
import { BROKER_KINDS } from '../src/core/triggers.js';
import { brokerTarget, brokerUrlAt, testAddress } from './helpers/brokers.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MESSAGES = 1000;

/*
 * For each broker: messages published while Ferry is killed (-9) and started again twice become
 * exactly one task each, and a broker that goes away (its connection cut by a proxy in front of
 * it) puts the trigger in ERROR until it is back.
 */
describe.each(BROKER_KINDS)('%s trigger across kill -9, restarts and a broker outage', (kind) => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_TRIGGER_POLL_MS: '200' });
  const proxy = new TcpProxy(brokerTarget(kind));
  afterAll(async () => {
    await server.dispose();
    await proxy.cut().catch(() => {});
  });

  it(`turns ${MESSAGES} messages into exactly ${MESSAGES} tasks, acknowledged only once stored; ERROR while the broker is away, ACTIVE once it is back`, async () => {
    await proxy.start();
    const source = await testAddress(kind, 'fault');
    let triggerId = '';
    try {
      await server.start();
      const api = async (method: string, path: string, body?: unknown): Promise<Json> =>
        (await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })).json() as Promise<Json>;
      const fn = await server.client.createFunction(serverFunction(`echo-${kind}`, { concurrency: 8 }));
      await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
      const field = { nats: 'subject', redis: 'stream', amqp: 'queue', mqtt: 'topic' }[kind];
      const trigger = await api('POST', '/v1/triggers', { name: `from-${kind}`, functionId: fn.id, kind, source: { url: brokerUrlAt(kind, proxy.port), [field]: source.address } });
      triggerId = trigger.id;
      expect(trigger.state).toBe('STARTING');
      const state = async (want: string): Promise<Json> => eventually(async () => {
        const t = await api('GET', `/v1/triggers/${triggerId}`);
        return t.state === want ? t : undefined;
      }, 20_000, `the trigger ${want}`);
      await state('ACTIVE');

      // Published at a steady pace while Ferry is killed and started again, twice.
      const publishing = (async () => {
        for (let i = 0; i < MESSAGES; i++) {
          await source.publish(JSON.stringify({ i }), `m-${i}`);
          if (i % 50 === 49) await sleep(100);
        }
      })();
      for (let round = 0; round < 2; round++) {
        await sleep(700);
        await server.kill9();
        await sleep(300);
        await server.start();
      }
      await publishing;

      const tasks = await eventually(async () => {
        const page = await server.client.listTasks({ functionId: fn.id, limit: 500 });
        let items = page.items;
        for (let cursor = page.nextCursor; cursor; ) {
          const next = await server.client.listTasks({ functionId: fn.id, limit: 500, cursor });
          items = items.concat(next.items);
          cursor = next.nextCursor;
        }
        if (items.length < MESSAGES) throw new Error(`${items.length} tasks so far; unacknowledged at the broker: ${await source.unacknowledged()}; the trigger: ${JSON.stringify(await api('GET', `/v1/triggers/${triggerId}`))}`);
        return items;
      }, 40_000, `${MESSAGES} tasks`);
      expect(tasks.length).toBe(MESSAGES);
      const inputs = await Promise.all(tasks.slice(0, 20).map((t) => server.client.getTask(t.id)));
      for (const t of inputs) expect(t.input).toEqual({ i: expect.any(Number) });
      expect(new Set(tasks.map((t) => t.idempotencyKey)).size).toBe(MESSAGES);
      expect((await api('GET', `/v1/triggers/${triggerId}`)).fired).toBe(MESSAGES);
      // Nothing left unacknowledged at the broker, once every message made its task.
      if ((await source.unacknowledged()) !== null) await eventually(async () => ((await source.unacknowledged()) === 0 ? true : undefined), 20_000, 'no unacknowledged message');

      await proxy.cut();
      const failing = await state('ERROR');
      expect(failing.lastError).toMatch(new RegExp(`^${kind} `));
      await proxy.restore();
      await state('ACTIVE');
      await source.publish(JSON.stringify({ i: MESSAGES }), `m-${MESSAGES}`);
      await eventually(async () => ((await api('GET', `/v1/triggers/${triggerId}`)).fired === MESSAGES + 1 ? true : undefined), 20_000, 'the message after the outage');
    } finally {
      await server.stop();
      await source.remove([`ferry-${triggerId}`]);
    }
  }, 120_000);
});
