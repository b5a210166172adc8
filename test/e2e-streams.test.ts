import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, TaskStreamEvent } from '../src/sdk/client.js';
import { readServerSentEvents, type ServerSentEvent } from '../src/sdk/sse.js';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

/** Live streams (Server-Sent Events) of tasks and of the fleet, through a real server and agent. */
describe('task and fleet streams', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_STREAM_POLL_MS: '200' });
  let functionId: string;
  let versionId: string;

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('talker', {}, { concurrency: 4 }));
    functionId = fn.id;
    versionId = fn.version.id;
    await server.client.deploy(functionId, versionId, { minInstances: 1, maxInstances: 1 });
  });
  afterAll(async () => {
    await server.dispose();
  });

  /** Opens a stream by hand, as a browser's EventSource would, and reads events until `stop` says so. */
  async function read(path: string, stop: (e: ServerSentEvent, all: ServerSentEvent[]) => boolean, lastEventId?: string) {
    const aborter = new AbortController();
    const res = await fetch(server.url + path, {
      headers: { authorization: `Bearer ${server.adminKey}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: aborter.signal,
    });
    const events: ServerSentEvent[] = [];
    if (res.status === 200) {
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      try {
        for await (const e of readServerSentEvents(res.body!)) {
          events.push(e);
          if (stop(e, events)) break;
        }
      } finally {
        aborter.abort();
      }
    }
    return { status: res.status, events };
  }

  it('follows logs: every line exactly once, in order, across a reconnect with Last-Event-ID', async () => {
    const { id } = await server.client.submit({ functionId, input: { logLines: 40, lineEveryMs: 25, output: 'spoken' } });
    const path = `/v1/tasks/${id}/logs?follow=true`;
    // The first connection goes away after 10 lines, while the task still writes.
    const first = await read(path, (_e, all) => all.length === 10);
    expect(first.events.every((e) => e.event === 'log')).toBe(true);
    const lastSeen = first.events[first.events.length - 1]!.id!;
    const second = await read(path, (e) => e.event === 'end', lastSeen);
    expect(second.events[second.events.length - 1]).toMatchObject({ event: 'end', id: 'end' });
    expect(JSON.parse(second.events[second.events.length - 1]!.data)).toMatchObject({ taskId: id, status: 'SUCCEEDED' });

    const lines = [...first.events, ...second.events].filter((e) => e.event === 'log').map((e) => JSON.parse(e.data) as LogLine);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i}`));
    const seqs = lines.map((l) => l.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect([...first.events, ...second.events].filter((e) => e.event === 'log').map((e) => Number(e.id))).toEqual(seqs);

    // A follower that saw the end is told there is nothing more (204 stops an EventSource reconnecting).
    expect((await read(path, () => true, 'end')).status).toBe(204);
    // The SDK's iterator reads the whole of it too, and ends with the task.
    const viaSdk: LogLine[] = [];
    for await (const l of server.client.followLogs(id)) viaSdk.push(l);
    expect(viaSdk.map((l) => l.seq)).toEqual(seqs);
  });

  it('streams status, progress and the end with the output, and resumes from Last-Event-ID', async () => {
    const { id } = await server.client.submit({ functionId, input: { logLines: 5, lineEveryMs: 150, output: { done: true } } });
    const seen: TaskStreamEvent[] = [];
    for await (const e of server.client.taskEvents(id)) seen.push(e);
    const types = seen.map((e) => e.type);
    expect(types[0]).toBe('status');
    expect(types[types.length - 1]).toBe('end');
    expect(types).toContain('progress');
    expect(seen.some((e) => e.type === 'status' && e.task.status === 'RUNNING')).toBe(true);
    // Progress only grows, and every event is a change.
    const progress = seen.map((e) => e.task.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen[seen.length - 1]!.task).toMatchObject({ status: 'SUCCEEDED', output: { done: true }, progress: 100 });

    // Resuming from a mid-run event sends only what changed since: here, the end.
    const midRun = seen.find((e) => e.type === 'progress')!;
    const resumed = await read(`/v1/tasks/${id}/events`, (e) => e.event === 'end', midRun.id);
    expect(resumed.events.map((e) => e.event)).toEqual(['end']);
    // Resuming from the end: nothing more.
    expect((await read(`/v1/tasks/${id}/events`, () => true, seen[seen.length - 1]!.id)).status).toBe(204);
  });

  it('shows a queued task its position, then its cancellation', async () => {
    const hold = await Promise.all([1, 2, 3, 4].map(() => server.client.submit({ functionId, input: { sleepMs: 3_000 } })));
    const { id } = await server.client.submit({ functionId, input: {} });
    const events = await read(`/v1/tasks/${id}/events`, (e) => e.event === 'end' || e.event === 'status');
    expect(JSON.parse(events.events[0]!.data)).toMatchObject({ status: 'QUEUED', position: 0 });
    const ended = server.client.wait(id);
    await server.client.cancelTask(id);
    expect(await ended).toMatchObject({ status: 'CANCELLED' });
    await Promise.all(hold.map((t) => server.client.cancelTask(t.id)));
  });

  it('streams the fleet’s deployment, instance and scaling events, and lists them as pages', async () => {
    const { items } = await server.client.listEvents({ functionId: 'talker' });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((e) => e.functionId === functionId)).toBe(true);
    const last = items[items.length - 1]!.seq;
    expect((await server.client.listEvents({ after: last })).items.every((e) => e.seq > last)).toBe(true);

    const fn = await server.client.createFunction(jobFunction('newcomer'));
    const aborter = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const e of server.client.fleetEvents({ after: last, signal: aborter.signal })) {
        seen.push(`${e.kind}:${e.to}`);
        if (e.versionId === fn.version.id && e.kind === 'instance' && e.to === 'IDLE') aborter.abort();
      }
    })();
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    await following;
    expect(seen).toContain('deployment:DEPLOYING');
    expect(seen).toContain('instance:IDLE');
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('answers a bad request before any stream opens', async () => {
    const missing = await fetch(`${server.url}/v1/tasks/task_nope/events`, { headers: { authorization: `Bearer ${server.adminKey}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'TASK_NOT_FOUND' } });
    const { id } = await server.client.submit({ functionId, input: {} });
    const bad = await fetch(`${server.url}/v1/tasks/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${server.adminKey}`, 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({ error: { code: 'INVALID_REQUEST', message: expect.stringContaining('Last-Event-ID') } });
    const noKey = await fetch(`${server.url}/v1/events?follow=true`);
    expect(noKey.status).toBe(401);
  });

  it('ferry tasks logs -f and ferry tasks wait follow a task to its end', async () => {
    const { id } = await server.client.submit({ functionId, input: { logLines: 6, lineEveryMs: 50, output: 7 } });
    const [logs, wait] = await Promise.all([server.cli('tasks', 'logs', id, '-f'), server.cli('--output', 'json', 'tasks', 'wait', id)]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.trim().split('\n')).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    expect(wait.code).toBe(0);
    expect(JSON.parse(wait.stdout)).toMatchObject({ id, status: 'SUCCEEDED', output: 7 });
  });
});
