import { type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer } from './helpers/ferry-server.js';

const CONNECTIONS = 5_000;
const SLOW = 200;

/** One HTTP/1.1 GET on a new connection; how it ended: the status line's code, or the error's code. */
function getOnce(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let head = '';
    socket.setTimeout(30_000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d: Buffer) => (head += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.on('close', () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? `closed:${head.slice(0, 40)}`));
  });
}

/** Under a flood of new connections and clients that trickle their headers, the server keeps answering. */
describe('a flood of connections, and slow clients', () => {
  const server = new FerryServer(['--gpus', 'none', '--no-agent'], { FERRY_HEADERS_TIMEOUT_MS: '1000' });
  let port = 0;
  beforeAll(async () => {
    await server.start();
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.dispose());

  it(`accepts ${CONNECTIONS.toLocaleString('en-US')} connections opened at once: none reset, every one answered`, async () => {
    const outcomes = await Promise.all(Array.from({ length: CONNECTIONS }, () => getOnce(port, '/healthz')));
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ '200': CONNECTIONS });
  }, 120_000);

  it(`cuts off ${SLOW} clients that trickle their headers, and answers the others meanwhile`, async () => {
    const slow: Socket[] = [];
    const closed: Promise<number>[] = [];
    for (let i = 0; i < SLOW; i++) {
      const s = connect({ port, host: '127.0.0.1' });
      slow.push(s);
      const started = Date.now();
      closed.push(new Promise((resolve) => s.on('close', () => resolve(Date.now() - started))));
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    }
    // A header line every 200 ms: never done, always a little more.
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 200);
    try {
      const normal = await Promise.all(Array.from({ length: 50 }, () => getOnce(port, '/healthz')));
      expect(normal.every((o) => o === '200')).toBe(true);
      // Each slow client is cut off once its headers have taken longer than FERRY_HEADERS_TIMEOUT_MS.
      const lasted = await Promise.all(closed);
      expect(Math.min(...lasted)).toBeGreaterThanOrEqual(900);
      expect(Math.max(...lasted)).toBeLessThan(5_000);
    } finally {
      clearInterval(trickle);
      for (const s of slow) s.destroy();
    }
  }, 60_000);
});
