import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSecret } from '../src/core/webhook-signature.js';
import { FerryServer, eventually, jobFunction } from './helpers/ferry-server.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A webhook receiver on 127.0.0.1 that answers `status()` and keeps every request it got. */
async function receiver(status: () => number): Promise<{ url: string; got: { headers: Record<string, string>; body: string }[]; close(): Promise<void> }> {
  const got: { headers: Record<string, string>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(status()).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise((r) => server.close(() => r())) };
}

describe('destinations: signed webhooks retried until delivered, function chains, broker publish', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', FERRY_DELIVERY_RETRY_MS: '100', FERRY_DELIVERY_POLL_MS: '100', FERRY_OUTCOME_POLL_MS: '100' });
  let api: (method: string, path: string, body?: unknown) => Promise<Json>;
  beforeAll(async () => {
    await server.start();
    api = async (method, path, body) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return (await res.json()) as Json;
    };
  });
  afterAll(() => server.dispose());

  it('delivers every outcome once the receiver recovers from 500s, with one webhook-id across retries and a signature the reference library verifies', async () => {
    let failing = true;
    const hook = await receiver(() => (failing ? 500 : 204));
    const secret = newSecret();
    const fn = await server.client.createFunction(jobFunction('notify', {}, { destinations: { onSuccess: { webhook: { url: hook.url, secret } } } }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    expect((await api('GET', `/v1/functions/${fn.id}/versions/${fn.version.id}`)).destinations.onSuccess.webhook.secret).toBe('whsec_…');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { output: { i } } })).id);
    await eventually(async () => (new Set(hook.got.map((g) => g.headers['webhook-id'])).size === 10 && hook.got.length >= 20 ? true : undefined), 20_000, 'two tries of each');
    failing = false;
    const delivered = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => api('GET', `/v1/tasks/${id}/deliveries`)));
      return all.every((d) => d.items[0]?.status === 'DELIVERED') ? all.map((d) => d.items[0]) : undefined;
    }, 20_000, 'every delivery DELIVERED');

    const wh = new Webhook(secret);
    for (const [i, d] of delivered.entries()) {
      const tries = hook.got.filter((g) => g.headers['webhook-id'] === d.id);
      expect(tries.length).toBe(d.attempts.length);
      expect(d.attempts.slice(0, -1).every((a: Json) => a.statusCode === 500)).toBe(true);
      expect(d.attempts.at(-1)).toMatchObject({ statusCode: 204, error: null });
      expect(d).toMatchObject({ taskId: ids[i], event: 'success', kind: 'webhook', nextAttemptAt: null, lastError: null });
      const last = tries.at(-1)!;
      const payload = wh.verify(last.body, last.headers) as Json;
      expect(payload).toMatchObject({ type: 'task.succeeded', data: { id: ids[i], functionId: fn.id, status: 'SUCCEEDED', output: { i }, error: null } });
    }
    await hook.close();
  });

  it('runs a chain of two functions (transcode → thumbnail), and publishes to NATS when a task fails', async () => {
    const thumbnail = await server.client.createFunction(jobFunction('thumbnail'));
    await server.client.deploy(thumbnail.id, thumbnail.version.id, { minInstances: 0, maxInstances: 1 });
    const subject = `ferry.test.failures.${Math.random().toString(36).slice(2, 8)}`;
    const transcode = await server.client.createFunction(
      jobFunction('transcode', {}, {
        retries: 0,
        destinations: {
          onSuccess: { function: { functionId: 'thumbnail', input: { output: { 'thumbnailOf.$': '$.output.clip', 'from.$': '$.id' } } } },
          onFailure: { publish: { broker: 'nats', url: 'nats://127.0.0.1:4222', subject } },
        },
      }),
    );
    await server.client.deploy(transcode.id, transcode.version.id, { minInstances: 0, maxInstances: 1 });
    const nc = await natsConnect({ servers: '127.0.0.1:4222' });
    const published: Json[] = [];
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) published.push({ body: JSON.parse(new TextDecoder().decode(m.data)), id: m.headers?.get('webhook-id') });
    })();
    await nc.flush();

    const ok = await server.client.submit({ functionId: 'transcode', input: { output: { clip: 'clip-7.mp4' } } });
    const chained = await eventually(async () => {
      const d = (await api('GET', `/v1/tasks/${ok.id}/deliveries`)).items[0];
      return d?.status === 'DELIVERED' ? d : undefined;
    }, 20_000, 'the chain delivery');
    expect(chained).toMatchObject({ kind: 'function', resultTaskId: expect.stringMatching(/^task_/) });
    const next = await eventually(async () => {
      const t = await server.client.getTask(chained.resultTaskId);
      return t.status === 'SUCCEEDED' ? t : undefined;
    }, 20_000, 'the thumbnail task');
    expect([next.functionId, next.output]).toEqual([thumbnail.id, { thumbnailOf: 'clip-7.mp4', from: ok.id }]);

    const bad = await server.client.submit({ functionId: 'transcode', input: { exitCode: 3 } });
    await eventually(async () => (published.length > 0 ? true : undefined), 20_000, 'the failure on NATS');
    expect(published[0]).toMatchObject({ id: `dlv_${bad.id}.1`, body: { type: 'task.failed', data: { id: bad.id, status: 'FAILED', error: { code: 'EXIT_CODE' } } } });
    expect((await api('GET', `/v1/tasks/${bad.id}/deliveries`)).items[0]).toMatchObject({ kind: 'publish', status: 'DELIVERED', event: 'failure' });
    sub.unsubscribe();
    await nc.close();
  });

  it('refuses destinations that are not sound, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ onSuccess: { webhook: { url: 'ftp://x/y', secret: newSecret() } } }, /^destinations\.onSuccess\.webhook\.url: must be an http:\/\/ or https:\/\/ URL/],
      [{ onSuccess: { webhook: { url: 'http://u:p@x/y', secret: newSecret() } } }, /must not carry credentials/],
      [{ onFailure: { webhook: { url: 'http://x/y', secret: 'whsec_c2hvcnQ=' } } }, /^destinations\.onFailure\.webhook\.secret: the key is 5 bytes/],
      [{ onFailure: { publish: { broker: 'nats', url: 'redis://x', subject: 's' } } }, /^destinations\.onFailure\.publish\.url: a nats URL starts with nats:\/\//],
      [{ onFailure: { publish: { broker: 'kafka', url: 'kafka://x', subject: 's' } } }, /^destinations\.onFailure\.publish\.broker: must be one of nats, redis, amqp, mqtt/],
      [{ onSuccess: { function: { functionId: 'nope' } } }, /^destinations\.onSuccess\.function\.functionId: no function nope/],
      [{ onSuccess: { webhook: { url: 'http://x', secret: newSecret() }, function: { functionId: 'thumbnail' } } }, /^destinations\.onSuccess: must NOT have more than 1 properties/],
    ];
    for (const [destinations, message] of cases) {
      const res = await api('POST', '/v1/tasks', { functionId: 'thumbnail', input: {}, destinations });
      expect(res.error?.message, JSON.stringify(destinations)).toMatch(message);
    }
  });
});

describe('outbound safety: webhook addresses refused while the allow-list is empty', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_DELIVERY_RETRY_MS: '100', FERRY_DELIVERY_POLL_MS: '100', FERRY_OUTCOME_POLL_MS: '100' });
  const listeners: Server[] = [];
  const connections: Socket[] = [];
  afterAll(async () => {
    for (const c of connections) c.destroy();
    await Promise.all(listeners.map((l) => new Promise((r) => l.close(r))));
    await server.dispose();
  });

  it('never connects to loopback (in its spellings), private, link-local or metadata addresses, nor to a name that resolves to 127.0.0.1', async () => {
    // One port, listened on by every local address this machine has: any connection to it is counted.
    const probe = createServer((_req, res) => res.end());
    probe.on('connection', (c) => connections.push(c));
    await new Promise<void>((r) => probe.listen(0, '::', r));
    listeners.push(probe);
    const port = (probe.address() as AddressInfo).port;
    const urls = [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://127.1:${port}/`,
      `http://2130706433:${port}/`,
      `http://0x7f000001:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://127.0.0.2:${port}/`,
      `http://0.0.0.0:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[::]:${port}/`,
      `http://10.0.0.1:${port}/`,
      `http://10.255.255.254:${port}/`,
      `http://172.16.0.1:${port}/`,
      `http://172.31.255.254:${port}/`,
      `http://192.168.0.1:${port}/`,
      `http://192.168.255.254:${port}/`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[fe80::1]:${port}/`,
      `http://[::ffff:a9fe:a9fe]:${port}/`,
    ];
    await server.start();
    const fn = await server.client.createFunction(jobFunction('leak', {}, {}));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const secret = newSecret();
    const tasks = await Promise.all(urls.map((url) => server.client.submit({ functionId: fn.id, input: {}, destinations: { onSuccess: { webhook: { url, secret } } } })));
    const api = async (path: string): Promise<Json> => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.adminKey}` } })).json() as Promise<Json>;
    const deliveries = await eventually(async () => {
      const all = await Promise.all(tasks.map((t) => api(`/v1/tasks/${t.id}/deliveries`)));
      return all.every((d) => d.items[0]?.status === 'DEAD') ? all.map((d) => d.items[0]) : undefined;
    }, 30_000, 'every delivery DEAD');
    for (const [i, d] of deliveries.entries()) {
      expect(d.attempts, urls[i]).toHaveLength(1);
      expect(d.lastError, urls[i]).toMatch(/^refused before connecting: .*(loopback|private|link-local|"this network"|unspecified)/);
    }
    expect(deliveries[1].lastError).toMatch(/^refused before connecting: localhost resolves to (127\.0\.0\.1|::1); /);
    expect(connections).toHaveLength(0);
  }, 60_000);
});
