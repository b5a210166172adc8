import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

/** Every bad request gets a clear 4xx that names the problem; never a 500, never a crash. */
describe('bad input and tenant isolation', () => {
  const server = new FerryServer(['--gpus', 'none']);
  let otherKey: string;
  let readKey: string;
  let fnId: string;
  let versionId: string;
  let taskId: string;

  async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}, key = server.adminKey) {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : null };
  }

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('fn'));
    fnId = fn.id;
    versionId = fn.version.id;
    await server.client.deploy(fnId, versionId, { maxInstances: 1 });
    taskId = (await server.client.submit({ functionId: fnId, input: {} })).id;
    otherKey = (await server.client.createTenant('other')).adminKey.key;
    readKey = (await server.client.createKey('reader', 'read')).key;
  });
  afterAll(() => server.dispose());

  type Case = [what: string, method: string, path: string, body: string | undefined, status: number, message: RegExp, headers?: Record<string, string>];
  const cases: Case[] = [
    ['malformed JSON', 'POST', '/v1/functions', '{"name": "x",', 400, /malformed JSON/],
    ['an unknown field', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'fn', input: 1, colour: 'red' }), 400, /colour: unknown field/],
    ['a wrong type', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'fn', priority: 'high' }), 400, /priority: must be integer/],
    ['a number as a string', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'fn', timeoutSeconds: '5' }), 400, /timeoutSeconds: must be integer/],
    ['a timeout over 24 h', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'fn', timeoutSeconds: 86_401 }), 400, /timeoutSeconds/],
    ['a missing field', 'POST', '/v1/tasks', JSON.stringify({ input: 1 }), 400, /functionId: required/],
    ['a bad enum', 'POST', '/v1/functions', JSON.stringify({ name: 'x', version: { mode: 'servr', runtime: { type: 'process' } } }), 400, /version\.mode: must be one of server, job/],
    ['a bad name', 'POST', '/v1/functions', JSON.stringify({ name: 'Bad Name!', version: { mode: 'job', runtime: { type: 'process' }, job: { command: ['x'] } } }), 400, /name/],
    ['a server without a command', 'POST', '/v1/functions', JSON.stringify({ name: 'srv', version: { mode: 'server', runtime: { type: 'process' } } }), 400, /version\.runtime\.command/],
    ['a taken name', 'POST', '/v1/functions', JSON.stringify(jobFunction('fn')), 409, /already exists/],
    ['min above max', 'PUT', '/v1/functions/fn/versions/VERSION/deployment', JSON.stringify({ minInstances: 3, maxInstances: 2 }), 400, /maxInstances/],
    ['a bad cursor', 'GET', '/v1/tasks?cursor=zzz', undefined, 400, /cursor/],
    ['a bad status filter', 'GET', '/v1/tasks?status=DONE', undefined, 400, /status/],
    ['a bad limit', 'GET', '/v1/tasks?limit=0', undefined, 400, /limit/],
    ['an unknown query parameter', 'GET', '/v1/functions?colour=red', undefined, 400, /colour: unknown field/],
    ['a bad Prefer', 'POST', '/v1/functions/fn/invoke', '{}', 400, /Prefer/, { prefer: 'wait=soon' }],
    ['a bad priority header', 'POST', '/v1/functions/fn/invoke', '{}', 400, /Ferry-Priority/, { 'ferry-priority': '1000' }],
    ['a query to a job-only version', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'fn', taskType: 'query' }), 400, /taskType/],
    ['an unknown function', 'POST', '/v1/tasks', JSON.stringify({ functionId: 'nope' }), 404, /function nope not found/],
    ['an unknown task', 'GET', '/v1/tasks/task_0000', undefined, 404, /task task_0000 not found/],
    ['an unknown version', 'GET', '/v1/functions/fn/versions/ver_0000', undefined, 404, /version ver_0000/],
    ['an unknown route', 'GET', '/v1/nothing', undefined, 404, /no route/],
    ['a task input nested 4,100 levels deep', 'POST', '/v1/tasks', `{"functionId":"fn","input":${'['.repeat(4100)}1${']'.repeat(4100)}}`, 400, /body: JSON nested deeper than 128 levels/],
    ['an invoke body nested 4,100 levels deep', 'POST', '/v1/functions/fn/invoke', `${'{"a":'.repeat(4100)}1${'}'.repeat(4100)}`, 400, /body: JSON nested deeper than 128 levels/],
    ['a docker version before the docker runtime exists', 'POST', '/v1/functions', JSON.stringify({ name: 'img', version: { mode: 'job', runtime: { type: 'docker', image: 'x' }, job: { command: ['x'] } } }), 422, /docker/],
  ];
  it.each(cases)('answers %s with a clear 4xx', async (_what, method, path, body, status, message, headers) => {
    const res = await call(method, path.replace('VERSION', versionId), body, headers);
    expect(res.status).toBe(status);
    expect(res.body?.error?.message).toMatch(message);
  });

  it('refuses an oversized body with 413 and a binary invoke with 415', async () => {
    // A declared length over the limit is refused before any of the body is read; sending none
    // of it keeps the exchange deterministic (an upload cut short by the early answer is not).
    const early = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json', 'content-length': 7 * 1024 * 1024 } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(early.status).toBe(413);
    expect(JSON.parse(early.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const res = await fetch(`${server.url}/v1/functions/fn/invoke`, { method: 'POST', headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) });
    expect(res.status).toBe(415);
  });

  it('needs a valid key on every route but health, and the right scope', async () => {
    expect((await fetch(`${server.url}/v1/functions`)).status).toBe(401);
    expect((await call('GET', '/v1/functions', undefined, {}, 'fry_wrong')).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await call('GET', '/v1/functions', undefined, {}, readKey)).status).toBe(200);
    const denied = await call('POST', '/v1/tasks', JSON.stringify({ functionId: 'fn' }), {}, readKey);
    expect(denied.status).toBe(403);
    expect(denied.body?.error?.message).toMatch(/needs "invoke"/);
    expect((await call('POST', '/v1/tenants', JSON.stringify({ name: 'third' }), {}, otherKey)).status).toBe(403);
  });

  it("answers 404 for another tenant's resources on every route", async () => {
    const paths: [string, string, string?][] = [
      ['GET', `/v1/functions/${fnId}`],
      ['GET', '/v1/functions/fn'],
      ['DELETE', `/v1/functions/${fnId}`],
      ['GET', `/v1/functions/${fnId}/versions`],
      ['POST', `/v1/functions/${fnId}/versions`, JSON.stringify({ mode: 'job', runtime: { type: 'process' }, job: { command: ['x'] } })],
      ['GET', `/v1/functions/${fnId}/versions/${versionId}`],
      ['DELETE', `/v1/functions/${fnId}/versions/${versionId}`],
      ['GET', `/v1/functions/${fnId}/versions/${versionId}/deployment`],
      ['PUT', `/v1/functions/${fnId}/versions/${versionId}/deployment`, '{}'],
      ['DELETE', `/v1/functions/${fnId}/versions/${versionId}/deployment`],
      ['POST', `/v1/functions/${fnId}/invoke`, '{}'],
      ['POST', `/v1/functions/${fnId}/versions/${versionId}/invoke`, '{}'],
      ['GET', `/v1/functions/${fnId}/queue`],
      ['POST', '/v1/tasks', JSON.stringify({ functionId: fnId })],
      ['GET', `/v1/tasks/${taskId}`],
      ['GET', `/v1/tasks/${taskId}/output`],
      ['GET', `/v1/tasks/${taskId}/logs`],
      ['GET', `/v1/tasks/${taskId}/position`],
      ['POST', `/v1/tasks/${taskId}/cancel`],
    ];
    for (const [method, path, body] of paths) {
      const res = await call(method, path, body, {}, otherKey);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call('GET', '/v1/tasks', undefined, {}, otherKey)).body).toMatchObject({ items: [] });
    expect((await call('GET', '/v1/instances', undefined, {}, otherKey)).body).toMatchObject({ items: [] });
    // And the owner still sees it all.
    expect((await call('GET', `/v1/tasks/${taskId}`)).status).toBe(200);
  });

  it('serves an OpenAPI 3.1 document generated from the validating schemas', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/v1/functions', '/v1/tasks', '/v1/tasks/{taskId}', '/v1/functions/{functionId}/invoke', '/v1/functions/{functionId}/versions/{versionId}/deployment', '/v1/gpus']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('survives a burst of random garbage without a 5xx', async () => {
    const routes = ['/v1/functions', '/v1/tasks', '/v1/functions/fn/invoke', `/v1/functions/fn/versions/${versionId}/deployment`, '/v1/keys', '/v1/tenants'];
    const junk = ['', 'null', '[]', '"x"', '{"a":', '{}', '{"name":null}', '{"functionId":{"$gt":""}}', '\u0000\u0001', JSON.stringify({ version: { mode: 'job', runtime: [] } })];
    for (const path of routes) {
      for (const body of junk) {
        for (const method of ['POST', 'PUT']) {
          const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' }, body });
          expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        }
      }
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
