import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadAsset } from '../../src/sdk/asset-files.js';
import { FerryServer, jobFunction } from '../helpers/ferry-server.js';

type Operation = { method: string; path: string; params: string[] };

/** Every operation of the OpenAPI document, with its path parameters' names. */
async function operations(url: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path, params: [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]!) })),
  );
}

const MUTATIONS = ['x'.repeat(5_000), '..%2F..%2Fetc%2Fpasswd', '%00', '__proto__', 'constructor', "'; DROP TABLE tasks; --", '%F0%9F%92%A5', '%E2%80%AE', '-1', '1e309', '{}', '%20'];
const BODIES = ['null', '[]', '"x"', '1', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}', '{"a":"\\u0000"}', `{"name":"${'n'.repeat(10_000)}"}`, '{"id":"x","tenantId":"ten_other","status":"SUCCEEDED","attempt":9,"output":1,"state":"ACTIVE"}', `${'['.repeat(200)}${']'.repeat(200)}`, '{"functionId":{"$gt":""}}', '{"limit":-1}'];
const TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x'];

/**
 * The security matrix, driven by the OpenAPI document: every id-bearing route, called by another
 * tenant with this tenant's real ids, gives nothing away; thousands of mutated requests answer no
 * 5xx; no secret is stored or logged in the clear; fields a caller may not set are refused.
 */
describe('security matrix over the OpenAPI document', () => {
  const server = new FerryServer(['--gpus', 'none']);
  const ids: Record<string, string> = {};
  let otherKey = '';
  let ops: Operation[] = [];
  const call = (method: string, path: string, key: string, body?: string, type = 'application/json') =>
    fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': type } : {}) }, body });

  beforeAll(async () => {
    await server.start();
    const c = server.client;
    const fn = await c.createFunction(jobFunction('fn'));
    await c.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    const task = await c.submit({ functionId: fn.id, input: {} });
    const asset = await uploadAsset(c, Buffer.from('bytes'), { contentType: 'text/plain' });
    const trigger = await c.triggers.create({ name: 'nightly', functionId: fn.id, kind: 'cron', schedule: '0 3 * * *' });
    const wf = await c.workflows.create({ name: 'wf', definition: { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'fn', End: true } } } });
    const execution = await c.workflows.run('wf', { input: {} });
    const key = await c.createKey('probe', 'read');
    Object.assign(ids, { functionId: fn.id, versionId: fn.version.id, taskId: task.id, assetId: asset.id, triggerId: trigger.id, workflowId: wf.id, executionId: execution.id, keyId: key.id });
    const nodes = (await c.nodes()).items as { id: string }[];
    ids.nodeId = nodes[0]!.id;
    ids.instanceId = 'ins_none';
    ids.tenantId = (await c.quotas()).tenantId;
    otherKey = (await c.createTenant('intruder')).adminKey.key;
    ops = await operations(server.url);
  });
  afterAll(() => server.dispose());

  it("answers another tenant's key on every id-bearing route as it answers ids that do not exist: 404 (403 where only nodes or system admins may go)", async () => {
    const probed: string[] = [];
    for (const op of ops.filter((o) => o.params.length > 0)) {
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : '{}';
      const real = op.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? `missing-${name}`);
      const bogus = op.path.replace(/\{(\w+)\}/g, (_, name: string) => `${(ids[name] ?? 'x_').split('_')[0]}_00000000000000000000000000`);
      const [a, b] = await Promise.all([real, bogus].map(async (path) => {
        const res = await call(op.method, path, otherKey, body);
        return { status: res.status, text: await res.text() };
      }));
      probed.push(`${op.method} ${op.path}`);
      // A body the schema refuses is refused first, whatever the id (400); otherwise 404, or 403.
      expect(body === undefined ? [404, 403] : [404, 403, 400], `${op.method} ${real} → ${a!.status} ${a!.text.slice(0, 200)}`).toContain(a!.status);
      // This tenant's id tells the other tenant nothing: the same answer as an id that does not exist.
      const masked = (t: string, path: string): string => path.split('/').reduce((acc, part) => (part ? acc.split(part).join('<id>') : acc), t);
      expect({ status: a!.status, text: masked(a!.text, real) }, `${op.method} ${op.path}`).toEqual({ status: b!.status, text: masked(b!.text, bogus) });
      for (const id of Object.values(ids)) if (!real.includes(id)) expect(a!.text, `${op.method} ${op.path}`).not.toContain(id);
    }
    expect(probed.length).toBeGreaterThanOrEqual(40);
    // And the owner still sees its own.
    expect((await call('GET', `/v1/tasks/${ids.taskId}`, server.adminKey)).status).toBe(200);
  });

  it('answers 10,000 mutated requests built from the document without a 5xx, and keeps serving', async () => {
    const requests: (() => Promise<[string, number]>)[] = [];
    let n = 0;
    while (requests.length < 10_000) {
      for (const op of ops) {
        const mutation = MUTATIONS[n % MUTATIONS.length]!;
        const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => (n % 3 === 0 ? (ids[name] ?? mutation) : mutation)) + (n % 5 === 0 ? `?limit=${mutation}&cursor=${mutation}` : '');
        const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : BODIES[n % BODIES.length]!;
        const type = TYPES[Math.floor(n / BODIES.length) % TYPES.length]!;
        // Only this tenant's own routes: nothing here deletes what the matrix reads (ids are mutated on deletes).
        const safePath = op.method === 'DELETE' ? op.path.replace(/\{(\w+)\}/g, mutation) : path;
        requests.push(async () => [`${op.method} ${safePath} ${type} ${body?.slice(0, 60) ?? ''}`, (await call(op.method, safePath, server.adminKey, body, type).then(async (r) => (await r.arrayBuffer(), r))).status]);
        n++;
        if (requests.length === 10_000) break;
      }
    }
    const failures: string[] = [];
    // Four at a time: enough to overlap requests, not so many that the files running beside this one starve.
    for (let i = 0; i < requests.length; i += 4) {
      for (const [what, status] of await Promise.all(requests.slice(i, i + 4).map((r) => r()))) if (status >= 500) failures.push(`${status} ${what}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 300_000);

  it('stores and logs no key in the clear, and refuses fields a caller may not set', async () => {
    const secrets = [server.adminKey, otherKey];
    const db = readFileSync(join(server.dataDir, 'ferry.db'));
    const wal = (() => {
      try {
        return readFileSync(join(server.dataDir, 'ferry.db-wal'));
      } catch {
        return Buffer.alloc(0);
      }
    })();
    for (const s of secrets) {
      expect(db.includes(s)).toBe(false);
      expect(wal.includes(s)).toBe(false);
      expect(server.log.includes(s)).toBe(false);
    }
    const forged = await call('POST', '/v1/tasks', server.adminKey, JSON.stringify({ functionId: 'fn', id: 'task_mine', tenantId: 'ten_other', status: 'SUCCEEDED', attempt: 9, output: 1 }));
    expect(forged.status).toBe(400);
    const patched = await call('PATCH', `/v1/triggers/${ids.triggerId}`, server.adminKey, JSON.stringify({ state: 'ACTIVE', fired: 100 }));
    expect(patched.status).toBe(400);
    expect((await server.client.triggers.get(ids.triggerId!)).fired).toBe(0);
  });
});
