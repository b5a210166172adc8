import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, eventually, jobFunction } from './helpers/ferry-server.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('triggers: definitions, bad input, webhooks', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_TRIGGER_POLL_MS: '200' });
  let api: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Json }>;
  let fnId = '';

  beforeAll(async () => {
    await server.start();
    api = async (method, path, body) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    };
    const fn = await server.client.createFunction(jobFunction('echo'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    fnId = fn.id;
  });
  afterAll(() => server.dispose());

  it('creates, reads, lists, changes, pauses, resumes and deletes a trigger; a cron one shows its next fire times', async () => {
    const created = await api('POST', '/v1/triggers', { name: 'hourly', functionId: 'echo', kind: 'cron', schedule: '0 * * * *', timezone: 'Europe/Paris', task: { input: { 'at.$': '$.scheduledAt' }, priority: 5 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.stringMatching(/^trg_/), name: 'hourly', kind: 'cron', functionId: fnId, versionId: null, schedule: '0 * * * *', timezone: 'Europe/Paris', catchUp: false, state: 'ACTIVE', fired: 0, lastFiredAt: null, lastError: null });
    const next = created.json.nextFires.map((t: string) => Date.parse(t));
    expect(next).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(next[i] - next[i - 1]).toBe(3_600_000);
    expect(new Date(next[0]).getUTCMinutes()).toBe(0);
    const id = created.json.id;

    expect((await api('GET', `/v1/triggers/${id}`)).json).toMatchObject({ id, schedule: '0 * * * *' });
    expect((await api('GET', '/v1/triggers')).json.items.map((t: Json) => t.id)).toContain(id);
    const changed = await api('PATCH', `/v1/triggers/${id}`, { schedule: '*/30 * * * *', catchUp: true });
    expect(changed.json).toMatchObject({ schedule: '*/30 * * * *', timezone: 'Europe/Paris', catchUp: true, task: { priority: 5 } });
    expect((await api('POST', `/v1/triggers/${id}/pause`)).json).toMatchObject({ state: 'PAUSED', nextFires: [] });
    expect((await api('POST', `/v1/triggers/${id}/resume`)).json).toMatchObject({ state: 'ACTIVE' });
    expect((await api('DELETE', `/v1/triggers/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/triggers/${id}`)).json.error.code).toBe('TRIGGER_NOT_FOUND');
  });

  it('refuses bad input with a 400 that names the field, and stores nothing', async () => {
    const base = { name: 'bad', functionId: 'echo' };
    const cases: [unknown, number, RegExp][] = [
      [{ ...base, kind: 'cron', schedule: '61 * * * *' }, 400, /^schedule: "61 \* \* \* \*" is not a cron expression/],
      [{ ...base, kind: 'cron', schedule: '* * * * *', timezone: 'Mars/Olympus' }, 400, /^timezone: "Mars\/Olympus" is not an IANA time zone/],
      [{ ...base, kind: 'cron' }, 400, /^schedule: required/],
      [{ ...base, kind: 'kafka', source: { url: 'kafka://x' } }, 400, /^kind: must be one of cron, nats, redis, amqp, mqtt, webhook, asset/],
      [{ ...base, kind: 'nats', source: { url: 'http://127.0.0.1:4222', subject: 'x' } }, 400, /^source\.url: a nats URL starts with nats:\/\//],
      [{ ...base, kind: 'redis', source: { url: 'redis://127.0.0.1' } }, 400, /^source\.stream: required/],
      [{ ...base, kind: 'amqp', source: { url: 'amqp://127.0.0.1', queue: 'q', topic: 't' } }, 400, /^source\.topic: not a field of a amqp source/],
      [{ ...base, kind: 'webhook', secret: 'whsec_c2hvcnQ=' }, 400, /^secret: the key is 5 bytes; at least 24 are needed/],
      [{ ...base, kind: 'webhook', secret: 'plain' }, 400, /^secret: a secret is "whsec_" followed by base64/],
      [{ ...base, kind: 'webhook', schedule: '* * * * *' }, 400, /^schedule: not a field of a webhook trigger/],
      [{ ...base, kind: 'cron', schedule: '* * * * *', task: { input: { 'x.$': 'body' } } }, 400, /^task\.input\.x\.\$: "body" is not a path/],
      [{ ...base, functionId: 'nope', kind: 'cron', schedule: '* * * * *' }, 404, /function nope not found/],
    ];
    for (const [body, status, message] of cases) {
      const res = await api('POST', '/v1/triggers', body);
      expect([res.status, res.json.error.message], JSON.stringify(body)).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await api('GET', '/v1/triggers')).json.items.filter((t: Json) => t.name === 'bad')).toEqual([]);
    await api('POST', '/v1/triggers', { name: 'taken', functionId: 'echo', kind: 'asset' });
    expect((await api('POST', '/v1/triggers', { name: 'taken', functionId: 'echo', kind: 'asset' })).json.error.code).toBe('TRIGGER_EXISTS');
  });

  it('starts a task for a webhook signed with its secret (Standard Webhooks), and refuses a bad signature, a stale timestamp, a replay and a paused trigger', async () => {
    const onFailure = { webhook: { url: 'https://hooks.example.com/failed', secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` } };
    const created = await api('POST', '/v1/triggers', { name: 'inbound', functionId: 'echo', kind: 'webhook', task: { input: { 'order.$': '$.body.order', 'via.$': '$.source' } }, destinations: { onFailure } });
    expect(created.json).toMatchObject({ hookPath: `/v1/hooks/${created.json.id}`, secret: expect.stringMatching(/^whsec_/) });
    expect((await api('GET', `/v1/triggers/${created.json.id}`)).json.secret).toBeUndefined();
    const hook = new Webhook(created.json.secret);
    const send = (id: string, body: string, at = new Date(), signer = hook) =>
      fetch(`${server.url}${created.json.hookPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, body) },
        body,
      });

    const body = JSON.stringify({ order: 42 });
    const accepted = await send('msg_1', body);
    expect(accepted.status).toBe(202);
    const { taskId } = (await accepted.json()) as Json;
    const task = (await server.client.getTask(taskId)) as Json;
    expect(task.input).toEqual({ order: 42, via: 'webhook' });
    // The trigger's destinations are its tasks' (secrets are never shown back).
    expect(task.destinations).toEqual({ onFailure: { webhook: { url: onFailure.webhook.url, secret: 'whsec_…' } } });

    const replay = await send('msg_1', body);
    expect([replay.status, ((await replay.json()) as Json).error]).toEqual([409, expect.objectContaining({ code: 'WEBHOOK_REPLAYED', details: { taskId } })]);
    const tampered = await fetch(`${server.url}${created.json.hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_2', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': hook.sign('msg_2', new Date(), body) }, body: JSON.stringify({ order: 43 }) });
    expect([tampered.status, ((await tampered.json()) as Json).error.message]).toEqual([401, expect.stringContaining('no webhook-signature matches the body')]);
    const stale = await send('msg_3', body, new Date(Date.now() - 600_000));
    expect([stale.status, ((await stale.json()) as Json).error.message]).toEqual([401, expect.stringContaining('more than 300 s from now')]);
    const otherKey = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect((await send('msg_4', body, new Date(), otherKey)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/hooks/trg_nope`, { method: 'POST', body })).status).toBe(404);

    await api('POST', `/v1/triggers/${created.json.id}/pause`);
    expect((await send('msg_5', body)).status).toBe(409);
    await api('POST', `/v1/triggers/${created.json.id}/resume`);
    expect((await send('msg_5', body)).status).toBe(202);

    const fires = (await api('GET', `/v1/triggers/${created.json.id}/tasks`)).json.items;
    expect(fires.map((f: Json) => f.eventKey)).toEqual(['msg_5', 'msg_1']);
    expect(fires[1].taskId).toBe(taskId);
    expect((await api('GET', `/v1/triggers/${created.json.id}`)).json).toMatchObject({ fired: 2, lastFiredAt: expect.any(String) });
  });

  it('is managed from the CLI: create from flags (a webhook one prints its secret), list, pause, resume, tasks, delete', async () => {
    const json = async (...args: string[]): Promise<Json> => {
      const r = await server.cli('--output', 'json', 'triggers', ...args);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Json;
    };
    const cron = await json('create', 'nightly-cli', '--function', 'echo', '--kind', 'cron', '--schedule', '0 3 * * *', '--timezone', 'Asia/Tokyo', '--input', '{"mode":"full"}', '--priority', '7');
    expect(cron).toMatchObject({ kind: 'cron', schedule: '0 3 * * *', timezone: 'Asia/Tokyo', task: { input: { mode: 'full' }, priority: 7 } });
    expect(new Date(cron.nextFires[0]).getUTCHours()).toBe(18);
    const hook = await json('create', 'hook-cli', '--function', 'echo', '--kind', 'webhook');
    expect(hook.secret).toMatch(/^whsec_/);
    expect((await json('list')).items.map((t: Json) => t.name)).toEqual(expect.arrayContaining(['nightly-cli', 'hook-cli']));
    expect((await json('pause', cron.id)).state).toBe('PAUSED');
    expect((await json('resume', cron.id)).state).toBe('ACTIVE');
    expect((await json('tasks', cron.id)).items).toEqual([]);
    const bad = await server.cli('triggers', 'create', 'x', '--function', 'echo', '--kind', 'cron', '--broker-url', 'nats://127.0.0.1');
    expect([bad.code, bad.stderr]).toEqual([expect.any(Number), expect.stringContaining('--broker-url and --from: only for the broker kinds')]);
    expect(bad.code).not.toBe(0);
    await json('delete', cron.id);
    await json('delete', hook.id);
  });

  it('starts a task for each asset that becomes READY and matches the filter, with the asset as its input asset', async () => {
    const created = await api('POST', '/v1/triggers', { name: 'on-image', functionId: 'echo', kind: 'asset', filter: { contentType: 'image/*' } });
    expect(created.json).toMatchObject({ kind: 'asset', state: 'ACTIVE', filter: { contentType: 'image/*' } });
    const upload = async (contentType: string, bytes: Buffer): Promise<string> => {
      const asset = await server.client.assets.create({ contentType, sizeBytes: bytes.length });
      expect((await fetch(asset.uploadUrl!, { method: 'PUT', body: bytes })).status).toBe(200);
      return asset.id;
    };
    const image = await upload('image/png', Buffer.from('not really a png'));
    await upload('text/plain', Buffer.from('skipped'));
    const fires = await eventually(async () => {
      const items = (await api('GET', `/v1/triggers/${created.json.id}/tasks`)).json.items;
      return items.length > 0 ? items : undefined;
    }, 10_000, 'the asset trigger to fire');
    await new Promise((r) => setTimeout(r, 1200));
    expect((await api('GET', `/v1/triggers/${created.json.id}/tasks`)).json.items).toEqual(fires);
    expect(fires).toEqual([expect.objectContaining({ eventKey: image })]);
    const task = await server.client.getTask(fires[0].taskId);
    expect(task.inputAssets).toEqual([image]);
    expect(task.input).toMatchObject({ assetId: image, contentType: 'image/png', sizeBytes: 16 });
    await api('DELETE', `/v1/triggers/${created.json.id}`);
  });

  it('puts a cron trigger whose function is not deployed in ERROR with the reason, and back to ACTIVE once it is', async () => {
    const fn = await server.client.createFunction(jobFunction('idle'));
    const created = await api('POST', '/v1/triggers', { name: 'every-second', functionId: 'idle', kind: 'cron', schedule: '* * * * * *' });
    const failing = await eventually(async () => {
      const t = (await api('GET', `/v1/triggers/${created.json.id}`)).json;
      return t.state === 'ERROR' ? t : undefined;
    }, 5_000, 'the trigger in ERROR');
    expect(failing.lastError).toMatch(/^tick .*: function idle has no deployed version/);
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    const recovered = await eventually(async () => {
      const t = (await api('GET', `/v1/triggers/${created.json.id}`)).json;
      return t.state === 'ACTIVE' && t.fired > 0 ? t : undefined;
    }, 5_000, 'the trigger ACTIVE again');
    expect(recovered.lastError).toBeNull();
    await api('DELETE', `/v1/triggers/${created.json.id}`);
  });
});
