import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryClient } from '../src/sdk/client.js';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

/** promtool from Debian's `prometheus` package; required under CI. */
function promtool(): string | null {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return 'promtool';
  if (process.env.CI === 'true') throw new Error('promtool is required under CI: apt-get install -y prometheus');
  return null;
}

/** One sample's value from the text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('Prometheus metrics', () => {
  const server = new FerryServer(['--gpus', '2xH200:143771']);
  const tool = promtool();

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('measured', {}, { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 2 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const ok = await Promise.all([1, 2, 3].map(() => server.client.submit({ functionId: fn.id, input: { output: 1 } })));
    const failed = await server.client.submit({ functionId: fn.id, input: { exitCode: 4 } });
    const queued = await server.client.submit({ functionId: fn.id, input: { sleepMs: 10_000 } });
    await Promise.all([...ok, failed].map((t) => server.client.wait(t.id, { timeoutMs: 20_000 })));
    await server.client.cancelTask(queued.id);
    await server.client.wait(queued.id, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await server.dispose();
  });

  async function scrape(token = server.adminKey): Promise<Response> {
    return fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('counts tasks by function and status, times queue waits, runs, dispatch, HTTP and the store, and shows the fleet', async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'ferry_tasks_submitted_total', { function: 'measured' })).toBe(5);
    expect(sample(text, 'ferry_tasks_ended_total', { function: 'measured', status: 'SUCCEEDED' })).toBe(3);
    expect(sample(text, 'ferry_tasks_ended_total', { function: 'measured', status: 'FAILED' })).toBe(1);
    expect(sample(text, 'ferry_tasks_ended_total', { function: 'measured', status: 'CANCELLED' })).toBe(1);
    expect(sample(text, 'ferry_task_queue_wait_seconds_count', { function: 'measured' })).toBe(5);
    expect(sample(text, 'ferry_task_run_seconds_count', { function: 'measured', status: 'SUCCEEDED' })).toBe(3);
    expect(sample(text, 'ferry_task_dispatch_seconds_count')).toBe(5);
    expect(sample(text, 'ferry_http_request_duration_seconds_count', { method: 'POST', route: '/v1/tasks', status_code: '202' })).toBe(5);
    // The waits above followed each task's event stream: streams are no request latency.
    expect(sample(text, 'ferry_http_request_duration_seconds_count', { route: '/v1/tasks/:taskId/events' })).toBeUndefined();
    expect(sample(text, 'ferry_store_operation_duration_seconds_count', { operation: 'enqueueTask' })).toBe(5);
    expect(sample(text, 'ferry_deployment_queued_tasks', { function: 'measured', version: '1' })).toBe(0);
    expect(sample(text, 'ferry_instances', { function: 'measured', state: 'IDLE' })).toBe(1);
    expect(sample(text, 'ferry_deployments', { state: 'ACTIVE' })).toBe(1);
    expect([sample(text, 'ferry_gpus', { type: 'H200' }), sample(text, 'ferry_gpus_allocated', { type: 'H200' })]).toEqual([2, 1]);
    expect(sample(text, 'ferry_node_up')).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Labels stay bounded: no task id is ever one.
    expect(text).not.toMatch(/task_[0-9A-Za-z]{10,}/);
  });

  it.skipIf(tool === null)('passes promtool check metrics', async () => {
    const text = await (await scrape()).text();
    const check = spawnSync(tool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
  });

  it('is for the system tenant only, and keeps tenants’ functions of the same name apart', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const tenant = await server.client.createTenant('other-team');
    const res = await scrape(tenant.adminKey.key);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('system tenant') } });

    const theirs = new FerryClient(server.url, tenant.adminKey.key);
    const fn = await theirs.createFunction(jobFunction('measured'));
    await theirs.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const { id } = await theirs.submit({ functionId: fn.id, input: {} });
    await theirs.wait(id, { timeoutMs: 20_000 });
    const text = await (await scrape()).text();
    expect(sample(text, 'ferry_tasks_submitted_total', { tenant: 'default', function: 'measured' })).toBe(5);
    expect(sample(text, 'ferry_tasks_submitted_total', { tenant: 'other-team', function: 'measured' })).toBe(1);
    expect(sample(text, 'ferry_instances', { tenant: 'other-team', function: 'measured', state: 'IDLE' })).toBe(1);
  });
});

describe('a server with FERRY_METRICS=off', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_METRICS: 'off' });
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  it('runs tasks as ever and answers /metrics 404, naming the setting', async () => {
    const fn = await server.client.createFunction(jobFunction('unmeasured'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const { id } = await server.client.submit({ functionId: fn.id, input: { output: 7 } });
    expect(await server.client.wait(id, { timeoutMs: 20_000 })).toMatchObject({ status: 'SUCCEEDED', output: 7 });
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.adminKey}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('FERRY_METRICS=off') } });
  });

  it('refuses a value other than on or off at start', async () => {
    const bad = new FerryServer(['--gpus', 'none'], { FERRY_METRICS: 'no' });
    await expect(bad.start()).rejects.toThrow(/FERRY_METRICS: must be on or off, got "no"/);
    await bad.dispose();
  });
});
