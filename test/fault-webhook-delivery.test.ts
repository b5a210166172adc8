import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { newSecret } from '../src/core/webhook-signature.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('webhook deliveries across a receiver outage and kill -9 of Ferry', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', FERRY_DELIVERY_RETRY_MS: '200', FERRY_DELIVERY_POLL_MS: '100', FERRY_OUTCOME_POLL_MS: '100' });
  let failing = true;
  const got: { id: string; body: string; headers: Record<string, string> }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ id: req.headers['webhook-id'] as string, body, headers: req.headers as Record<string, string> });
      res.writeHead(failing ? 500 : 200).end();
    });
  });
  afterAll(async () => {
    await server.dispose();
    await new Promise((r) => receiver.close(r));
  });

  it('delivers every outcome once the receiver is back, each under one webhook-id across its retries and the restart', async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const secret = newSecret();
    await server.start();
    const fn = await server.client.createFunction(serverFunction('outcomes', { concurrency: 4, destinations: { onSuccess: { webhook: { url, secret } } } }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { i } })).id);
    // Every outcome tried at least once while the receiver fails; then Ferry dies.
    await eventually(async () => (new Set(got.map((g) => g.id)).size === ids.length ? true : undefined), 20_000, 'a first try of each');
    await server.kill9();
    await server.start();
    await eventually(async () => (got.length > ids.length * 2 ? true : undefined), 20_000, 'retries after the restart');
    failing = false;
    const api = async (path: string): Promise<Json> => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.adminKey}` } })).json() as Promise<Json>;
    const deliveries = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => api(`/v1/tasks/${id}/deliveries`)));
      return all.every((d) => d.items[0]?.status === 'DELIVERED') ? all.map((d) => d.items[0]) : undefined;
    }, 30_000, 'every outcome delivered');

    const wh = new Webhook(secret);
    expect(new Set(got.map((g) => g.id))).toEqual(new Set(deliveries.map((d) => d.id)));
    for (const [i, d] of deliveries.entries()) {
      const tries = got.filter((g) => g.id === d.id);
      expect(tries.length).toBeGreaterThanOrEqual(2);
      // Each try is recorded, but one sent just before the kill may not have been (at least once).
      expect(tries.length - d.attempts.length).toBeGreaterThanOrEqual(0);
      expect(tries.length - d.attempts.length).toBeLessThanOrEqual(1);
      const delivered = tries.at(-1)!;
      expect(wh.verify(delivered.body, delivered.headers)).toMatchObject({ type: 'task.succeeded', data: { id: ids[i] } });
    }
  }, 90_000);
});
