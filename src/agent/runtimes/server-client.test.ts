import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTask } from '../../core/new-task.js';
import type { TaskContext } from './runtime.js';
import { ServerClient } from './server-client.js';

/**
 * A function's server that answers each connection's first request and then, like a server letting
 * an idle kept-alive socket go just as a request arrives, resets the connection on the next.
 */
describe('a server-mode request on a kept-alive socket the server has just closed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-server-client-'));
  let server: Server;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket: Socket) => {
      connections++;
      let requests = 0;
      socket.on('data', () => {
        if (++requests === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\nconnection: keep-alive\r\n\r\n{"n":1}');
        else socket.resetAndDestroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes again on a fresh socket, once, and is answered', async () => {
    const client = new ServerClient((server.address() as AddressInfo).port, 1);
    const task = newTask({ tenantId: 't', functionId: 'f', versionId: 'v', taskType: 'query', input: {}, priority: 0, maxAttempts: 1, timeoutSeconds: 60, idempotencyKey: null, maxQueuedMs: 60_000 }, Date.now());
    const files = { dir, inputFile: join(dir, 'input.json'), outputFile: join(dir, 'output'), outputDir: join(dir, 'out'), progressFile: join(dir, 'progress.json'), inputAssetsDir: join(dir, 'inputs') };
    const ctx: TaskContext = { task, files, signal: new AbortController().signal, onLog: () => {} };
    try {
      for (let i = 0; i < 3; i++) expect(await client.query(ctx, '/', () => {})).toEqual({ kind: 'ok', output: '{"n":1}', outputType: 'application/json' });
      // Each request after the first met a reset on its reused socket and went again on a new one.
      expect(connections).toBe(3);
    } finally {
      client.close();
    }
  });
});
