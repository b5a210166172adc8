import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../src/api/routes/dashboard.js';
import { FerryServer } from './helpers/ferry-server.js';

describe('the dashboard beside the API', () => {
  const server = new FerryServer(['--gpus', 'none']);
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  it('serves the page and its assets at / without auth', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<div id="root"></div>');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // The page under its own name too: the same policy, never cached (its asset names change with each build).
    const byName = await fetch(`${server.url}/index.html`);
    expect(byName.status).toBe(200);
    expect(byName.headers.get('content-security-policy')).toBe(res.headers.get('content-security-policy'));
    expect([byName.headers.get('cache-control'), byName.headers.get('x-frame-options')]).toEqual(['no-cache', 'DENY']);
  });

  it('leaves the API as it was: unknown /v1 paths answer the JSON 404, and keys are still needed', async () => {
    for (const [method, path] of [['GET', '/v1/nope'], ['POST', '/v1/nope'], ['GET', '/v1/'], ['GET', '/nope.js']] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${method} ${path}` } });
    }
    expect((await fetch(`${server.url}/v1/functions`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    // The dashboard's routes are no part of the API's document.
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((p) => p === '/' || p.includes('*'))).toEqual([]);
  });
});

describe('the dashboard route without a build', () => {
  const empty = mkdtempSync(join(tmpdir(), 'ferry-no-dashboard-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('answers / with a 503 that says how to build it', async () => {
    const app = Fastify();
    await app.register(dashboardRoutes(empty));
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('npm run build');
    await app.close();
  });
});
