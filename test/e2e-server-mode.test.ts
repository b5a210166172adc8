import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';

describe('server mode, end to end through the HTTP API', () => {
  const server = new FerryServer(['--gpus', '2xH200:143771']);
  let functionId: string;
  let versionId: string;

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(serverFunction('model', { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 1 }));
    functionId = fn.id;
    versionId = fn.version.id;
    await server.client.deploy(functionId, versionId, { minInstances: 1, maxInstances: 1 });
    await eventually(async () => ((await server.client.getDeployment(functionId, versionId)).state === 'ACTIVE' ? true : undefined), 20_000, 'ACTIVE');
  });
  afterAll(() => server.dispose());

  it('answers a sync invoke with 200 and the output, on an instance given one declared GPU', async () => {
    const res = await fetch(`${server.url}/v1/functions/model/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    expect(res.status).toBe(200);
    const taskId = res.headers.get('ferry-task-id')!;
    const body = (await res.json()) as { echo: unknown; taskId: string; attempt: number; devices: string };
    expect(body).toEqual({ echo: { prompt: 'hi' }, taskId, attempt: 1, devices: '0' });
    const task = await server.client.getTask(taskId);
    expect(task).toMatchObject({ status: 'SUCCEEDED', progress: 100, output: body, attempt: 1 });
    const gpus = await server.client.gpus();
    expect(gpus.items).toEqual([expect.objectContaining({ type: 'H200', total: 2, allocated: 1, free: 1 })]);
  });

  it('passes a response through as the function gave it: its bytes and its content type, by invoke and by /output', async () => {
    const invoke = (reply: { base64: string; contentType?: string }) =>
      fetch(`${server.url}/v1/functions/model/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reply }),
      });
    const cases = [
      { text: '{ "a": 1.50,\n  "b": [ ] }', contentType: 'application/json', shown: { a: 1.5, b: [] } },
      { text: '{"not":"typed as json"}', contentType: undefined, shown: '{"not":"typed as json"}' },
      { text: 'id,score\n1,0.9\n', contentType: 'text/csv; charset=utf-8', shown: 'id,score\n1,0.9\n' },
      { text: 'naïve café ☕', contentType: 'text/plain; charset=utf-8', shown: 'naïve café ☕' },
    ];
    for (const c of cases) {
      const res = await invoke({ base64: Buffer.from(c.text).toString('base64'), contentType: c.contentType });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(c.contentType ?? 'text/plain; charset=utf-8');
      expect(Buffer.from(await res.arrayBuffer()).toString()).toBe(c.text);
      const taskId = res.headers.get('ferry-task-id')!;
      const output = await fetch(`${server.url}/v1/tasks/${taskId}/output`, { headers: { authorization: `Bearer ${server.adminKey}` } });
      expect([output.headers.get('content-type'), await output.text()]).toEqual([c.contentType ?? 'text/plain; charset=utf-8', c.text]);
      expect((await server.client.getTask(taskId)).output).toEqual(c.shown);
    }
    // The SDK's invoke answers a text output as the text.
    const viaSdk = await server.client.invoke('model', { reply: { base64: Buffer.from('plain words').toString('base64'), contentType: 'text/plain' } });
    expect(viaSdk).toMatchObject({ done: true, output: 'plain words' });
  });

  it('keeps a binary or large response as the task’s output asset: the same bytes and type through invoke, /output and `ferry tasks output`', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(40_000)]);
    const big = Buffer.from('x'.repeat(1_500_000));
    for (const [bytes, contentType] of [[png, 'image/png'], [big, 'text/plain']] as const) {
      const input = JSON.stringify({ reply: { base64: bytes.toString('base64'), contentType } });
      const headers = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
      // A client that does not follow redirects sees where the bytes are.
      const manual = await fetch(`${server.url}/v1/functions/model/invoke`, { method: 'POST', headers, body: input, redirect: 'manual' });
      expect(manual.status).toBe(302);
      const taskId = manual.headers.get('ferry-task-id')!;
      const followed = await fetch(manual.headers.get('location')!);
      expect([followed.headers.get('content-type'), Buffer.from(await followed.arrayBuffer()).equals(bytes)]).toEqual([contentType, true]);
      // fetch follows it by itself.
      const invoked = await fetch(`${server.url}/v1/functions/model/invoke`, { method: 'POST', headers, body: input });
      expect([invoked.status, invoked.headers.get('content-type'), Buffer.from(await invoked.arrayBuffer()).equals(bytes)]).toEqual([200, contentType, true]);

      const task = await server.client.getTask(taskId);
      expect(task).toMatchObject({ output: null, outputAssets: [{ name: 'response', sizeBytes: bytes.length, contentType }] });
      const output = await server.client.taskOutputResponse(taskId);
      expect(Buffer.from(await output.arrayBuffer()).equals(bytes)).toBe(true);
      const file = join(server.dataDir, `out-${taskId}`);
      const cli = await server.cli('tasks', 'output', taskId, '--out', file);
      expect(cli.code, cli.stderr).toBe(0);
      expect(readFileSync(file).equals(bytes)).toBe(true);
    }
  });

  it('returns 202 with a Location for a long task, which is then polled to SUCCEEDED', async () => {
    const res = await fetch(`${server.url}/v1/functions/${functionId}/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json', prefer: 'wait=0.2' },
      body: JSON.stringify({ sleepMs: 800 }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toMatch(/^\/v1\/tasks\/task_/);
    expect(res.headers.get('retry-after')).toBe('1');
    const { taskId } = (await res.json()) as { taskId: string };
    const done = await server.client.wait(taskId, { timeoutMs: 10_000 });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ echo: { sleepMs: 800 } });
  });

  it('counts a queued task’s position down as the tasks ahead of it finish', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await server.client.submit({ functionId, input: { sleepMs: 600 } })).id);
    const last = ids[2]!;
    const seen = new Set<number>();
    await eventually(async () => {
      const t = await server.client.getTask(last);
      if (t.position !== undefined) seen.add(t.position);
      return t.status === 'RUNNING' || t.status === 'SUCCEEDED' ? true : undefined;
    }, 15_000, 'last task to start');
    expect([...seen].sort()).toEqual([0, 1]);
    expect((await server.client.wait(last, { timeoutMs: 10_000 })).status).toBe('SUCCEEDED');
  });

  it('fails a task whose function answers an error status, with that status', async () => {
    const res = await fetch(`${server.url}/v1/functions/${functionId}/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 503 }),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; details: { error: { httpStatus: number } } } };
    expect(body.error.code).toBe('TASK_FAILED');
    expect(body.error.details.error.httpStatus).toBe(503);
  });

  it('cancels a queued task at once and a running request, and the instance serves again', async () => {
    const running = await server.client.submit({ functionId, input: { sleepMs: 5000 } });
    const queued = await server.client.submit({ functionId, input: { sleepMs: 10 } });
    await eventually(async () => ((await server.client.getTask(running.id)).status === 'RUNNING' ? true : undefined), 5000, 'RUNNING');
    expect((await server.client.cancelTask(queued.id)).status).toBe('CANCELLED');
    const t0 = Date.now();
    await server.client.cancelTask(running.id);
    const ended = await server.client.wait(running.id, { timeoutMs: 5000 });
    expect(ended.status).toBe('CANCELLED');
    expect(Date.now() - t0).toBeLessThan(2000);
    // The fixture server frees itself (health answers while a request sleeps), so it stays and serves.
    const next = await server.client.invoke(functionId, { ok: true }, { waitSeconds: 20 });
    expect(next.done).toBe(true);
  });

  it('returns the same task for a retried Idempotency-Key, and refuses the key for other content', async () => {
    const a = await server.client.invoke(functionId, { n: 1 }, { async: true, idempotencyKey: 'k-1' });
    const b = await server.client.invoke(functionId, { n: 1 }, { async: true, idempotencyKey: 'k-1' });
    expect(b.taskId).toBe(a.taskId);
    await expect(server.client.invoke(functionId, { n: 2 }, { async: true, idempotencyKey: 'k-1' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('orders the queue by priority', async () => {
    const blocker = await server.client.submit({ functionId, input: { sleepMs: 700 } });
    await eventually(async () => ((await server.client.getTask(blocker.id)).status === 'RUNNING' ? true : undefined), 5000, 'RUNNING');
    const low = await server.client.submit({ functionId, input: {}, priority: 0 });
    const high = await server.client.submit({ functionId, input: {}, priority: 10 });
    expect((await server.client.taskPosition(high.id)).position).toBe(0);
    expect((await server.client.taskPosition(low.id)).position).toBe(1);
    const [h, l] = await Promise.all([server.client.wait(high.id), server.client.wait(low.id)]);
    expect(Date.parse(h.startedAt!)).toBeLessThan(Date.parse(l.startedAt!));
  });

  it('shows the deployment with its instance and events, and lists tasks with a cursor', async () => {
    const d = await server.client.getDeployment(functionId, versionId);
    expect(d.instances.filter((i) => i.state === 'IDLE' || i.state === 'BUSY')).toHaveLength(1);
    expect(d.instances[0]!.gpus).toEqual([{ index: 0, type: 'H200' }]);
    expect(d.events.map((e) => e.to)).toContain('IDLE');
    const first = await server.client.listTasks({ functionId, limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await server.client.listTasks({ functionId, limit: 2, cursor: first.nextCursor! });
    expect(second.items[0]!.id).not.toBe(first.items[1]!.id);
    expect(Date.parse(second.items[0]!.createdAt)).toBeLessThanOrEqual(Date.parse(first.items[1]!.createdAt));
  });
});
