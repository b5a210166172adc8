import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalTask } from '../src/core/states.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const available = await postgresAvailable();

/**
 * PostgreSQL out of reach (every connection dropped, new ones refused, as in a database restart):
 * the API answers 503 with Retry-After instead of failing or hanging, and once the database is
 * back everything recovers by itself, with no acknowledged task lost.
 */
describe.skipIf(!available)('PostgreSQL outage', () => {
  const schema = freshSchema('ferry_outage');
  const target = new URL(POSTGRES_URL);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  let server: FerryServer;

  beforeAll(async () => {
    await proxy.start();
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.port = String(proxy.port);
    server = new FerryServer(['--gpus', 'none', '--store', viaProxy.toString()], { FERRY_PG_SCHEMA: schema, FERRY_LEADER_POLL_MS: '200' });
    await server.start();
  });
  afterAll(async () => {
    await server.dispose();
    await proxy.cut();
    await dropSchema(schema);
  });

  it('answers 503 while the store is unreachable and recovers by itself, losing nothing acknowledged', async () => {
    const fn = await server.client.createFunction(serverFunction('outage-echo', { concurrency: 4 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push((await server.client.submit({ functionId: fn.id, input: { n: i, sleepMs: 100 } })).id);

    await proxy.cut();
    const submit = await fetch(`${server.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ functionId: fn.id, input: { n: -1 } }),
    });
    expect(submit.status).toBe(503);
    expect(submit.headers.get('retry-after')).toBe('1');
    expect(((await submit.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));

    await proxy.restore();
    await eventually(async () => ((await fetch(`${server.url}/readyz`)).status === 200 ? true : undefined), 10_000, 'readyz to answer 200 again');
    const after: string[] = [];
    for (let i = 20; i < 30; i++) after.push((await server.client.submit({ functionId: fn.id, input: { n: i, sleepMs: 10 } })).id);
    const ids = [...before, ...after];
    const final = await eventually(async () => {
      const tasks = await Promise.all(ids.map((id) => server.client.getTask(id)));
      return tasks.every((t) => isTerminalTask(t.status)) ? tasks : undefined;
    }, 30_000, `every task to end\n${server.log}`);
    expect(final.map((t) => t.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    final.forEach((t, i) => expect((t.output as { echo: { n: number } }).echo.n).toBe(i));
  }, 60_000);

  it('serves with an instance that became ready while the store was unreachable', async () => {
    // Its server answers health 700 ms after start: inside the cut, so its ready report meets the outage.
    const fn = await server.client.createFunction(serverFunction('outage-late', { runtime: { type: 'process', command: [process.execPath, join(import.meta.dirname, 'fixtures', 'server.mjs')], cwd: join(import.meta.dirname, 'fixtures'), env: { FIXTURE_START_MS: '700' } } }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { n: i } })).id);
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 1_000));
    await proxy.restore();
    const final = await eventually(async () => {
      const tasks = await Promise.all(ids.map((id) => server.client.getTask(id).catch(() => null)));
      return tasks.every((t) => t !== null && isTerminalTask(t.status)) ? tasks : undefined;
    }, 20_000, `every task to end\n${server.log}`);
    expect(final.map((t) => t!.status)).toEqual(ids.map(() => 'SUCCEEDED'));
  }, 40_000);
});
