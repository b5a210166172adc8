import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryClient } from './client.js';

/** A stand-in for a server in trouble: each request gets the next scripted answer. */
async function scripted(answers: ((req: http.IncomingMessage, res: http.ServerResponse) => void)[]) {
  const seen: { lastEventId: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ lastEventId: req.headers['last-event-id'] as string | undefined });
    (answers.shift() ?? ((_q, r) => r.writeHead(500).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const task = (status: string) => JSON.stringify({ id: 'task_1', status, progress: 0 });
const sse = (...events: string[]) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(events.join(''));
};
const json = (status: number, body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('the SDK’s streams', () => {
  it('ride out a store outage, a gateway error and a cut stream, resuming with Last-Event-ID', async () => {
    const { url, seen } = await scripted([
      sse(`event: status\nid: a\ndata: ${task('QUEUED')}\n\n`),
      json(503, { error: { code: 'STORE_UNAVAILABLE', message: 'the store is unreachable' } }),
      json(502, null),
      sse(`event: status\nid: b\ndata: ${task('RUNNING')}\n\n`, `event: end\nid: c\ndata: ${task('SUCCEEDED')}\n\n`),
    ]);
    const signal = new AbortController().signal;
    const events = [];
    for await (const e of new FerryClient(url, 'key').taskEvents('task_1', { signal })) events.push([e.type, e.task.status]);
    expect(events).toEqual([['status', 'QUEUED'], ['status', 'RUNNING'], ['end', 'SUCCEEDED']]);
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, 'a', 'a', 'a']);
    // Every connection let go of the caller's signal.
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('stop at once on a refusal that trying again cannot mend', async () => {
    const { url, seen } = await scripted([json(404, { error: { code: 'TASK_NOT_FOUND', message: 'task task_1 not found' } })]);
    await expect(async () => {
      for await (const _ of new FerryClient(url, 'key').followLogs('task_1')) void _;
    }).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect(seen).toHaveLength(1);
  });
});
