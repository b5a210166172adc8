import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tenant's rates: token buckets of one second's worth, 429 with Retry-After past them, the IETF headers on every answer. */
describe('rate limits per tenant', () => {
  const server = new FerryServer(['--gpus', 'none', '--no-agent']);
  let tenantId: string;
  let key: string;
  const call = async (method: string, path: string, body?: unknown, as = key) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${as}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null };
  };
  beforeAll(async () => {
    await server.start();
    const t = await server.client.createTenant('limited');
    tenantId = t.id;
    key = t.adminKey.key;
    await call('POST', '/v1/functions', jobFunction('fn'));
  });
  afterAll(() => server.dispose());

  it('is set by system admins only, and refuses the quotas that are not there yet by name', async () => {
    expect((await call('PUT', `/v1/tenants/${tenantId}/quotas`, { requestsPerSecond: 5 })).status).toBe(403);
    const later = await call('PUT', `/v1/tenants/${tenantId}/quotas`, { queuedTasks: 10 }, server.adminKey);
    expect(later).toMatchObject({ status: 400, body: { error: { message: 'queuedTasks: quotas on work and capacity are not available yet; requestsPerSecond and submitsPerSecond are' } } });
    const set = await call('PUT', `/v1/tenants/${tenantId}/quotas`, { requestsPerSecond: 5, submitsPerSecond: 2 }, server.adminKey);
    expect(set).toMatchObject({ status: 200, body: { tenantId, quotas: { requestsPerSecond: 5, submitsPerSecond: 2 } } });
  });

  it('lets a second’s worth of calls through, then answers 429 with Retry-After, and tells what is left on every answer', async () => {
    // The key's lookup (with its tenant's quotas) is kept for a second.
    await sleep(1_100);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await call('GET', '/v1/quotas'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(answers[0]!.body).toMatchObject({ tenantId, quotas: { requestsPerSecond: 5, submitsPerSecond: 2 } });
    expect(answers[0]!.headers.get('ratelimit-policy')).toBe('"requests";q=5;w=1');
    expect(answers[0]!.headers.get('ratelimit')).toBe('"requests";r=4;t=0');
    expect(answers[5]).toMatchObject({ body: { error: { code: 'RATE_LIMITED' } } });
    expect(answers[5]!.headers.get('retry-after')).toBe('1');
    // Another tenant is not held back.
    expect((await call('GET', '/v1/functions', undefined, server.adminKey)).status).toBe(200);
  });

  it('counts submits on their own: a batch as its tasks, one over the burst refused with the reason', async () => {
    await sleep(1_100);
    const batch = await call('POST', '/v1/tasks/batch', { tasks: [{ functionId: 'fn' }, { functionId: 'fn' }, { functionId: 'fn' }] });
    expect(batch).toMatchObject({ status: 429, body: { error: { message: "3 submits at once are over the tenant's submitsPerSecond of 2, which is its burst too: send fewer at a time" } } });
    const submits = [];
    for (let i = 0; i < 3; i++) submits.push(await call('POST', '/v1/tasks', { functionId: 'fn' }));
    // The first two pass the limit (and are refused for what they ask: the function is not deployed); the third is over it.
    expect(submits.map((s) => s.status)).toEqual([409, 409, 429]);
    expect(submits[2]!.headers.get('ratelimit-policy')).toBe('"requests";q=5;w=1, "submits";q=2;w=1');
  });
});
