/**
 * What a flood of new connections and a crowd of slow clients do to everyone else: 5,000
 * connections opened at once (how many were answered, how many reset), then the latency of
 * normal requests (GET /v1/functions, keep-alive, one at a time) on an idle server and while 200
 * clients trickle their headers a line every 200 ms. Prints a markdown table and writes it to
 * bench/results/connections-<date>.md; it never passes or fails on a time.
 *
 *   node --import tsx bench/connections.ts [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FerryServer } from './lib/ferry-server.js';
import { LOOPBACK } from './lib/http-client.js';
import { publish } from './lib/report.js';
import { ms, summarize } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = { connections: 2_000, slow: 100, requests: 300 };
const FULL = { connections: 5_000, slow: 200, requests: 1_000 };

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

/** One request on a new connection; the status code, or the error's code. */
function once(port: number): Promise<string> {
  return new Promise((done) => {
    const s = connect({ port, host: LOOPBACK });
    let head = '';
    s.setTimeout(30_000, () => s.destroy(new Error('ETIMEDOUT')));
    s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => (head += d.toString('latin1')));
    s.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.on('close', () => done(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 'closed'));
  });
}

/** `n` requests one after another on the server's keep-alive client; their latencies in ms. */
async function latencies(ferry: FerryServer, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await ferry.request('GET', '/v1/functions');
    if (res.status !== 200) throw new Error(`GET /v1/functions answered ${res.status}`);
    out.push(performance.now() - t0);
  }
  return out;
}

export async function main(argv: readonly string[]): Promise<void> {
  const sizes = argv.includes('--quick') ? QUICK : FULL;
  const startedAt = new Date();
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-conn-'));
  const ferry = await FerryServer.start(REPO_ROOT, join(tmp, 'data'), 30_000);
  const body: string[] = [];
  try {
    log(`${sizes.connections} connections at once`);
    const t0 = performance.now();
    const outcomes = await Promise.all(Array.from({ length: sizes.connections }, () => once(ferry.port)));
    const floodSeconds = (performance.now() - t0) / 1000;
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);

    await latencies(ferry, 50);
    const idle = summarize(await latencies(ferry, sizes.requests));
    log(`${sizes.slow} slow clients`);
    const slow: Socket[] = [];
    for (let i = 0; i < sizes.slow; i++) {
      const s = connect({ port: ferry.port, host: LOOPBACK });
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      slow.push(s);
    }
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 200);
    let busy;
    try {
      busy = summarize(await latencies(ferry, sizes.requests));
    } finally {
      clearInterval(trickle);
      for (const s of slow) s.destroy();
    }
    body.push(
      `${sizes.connections.toLocaleString('en-US')} connections opened at once, each a GET /healthz: ${[...counts].map(([k, n]) => `${n} ${k === '200' ? 'answered 200' : k}`).join(', ')}, in ${floodSeconds.toFixed(1)} s.`,
      '',
      `Normal requests (GET /v1/functions, ${sizes.requests} one after another, keep-alive) on an idle server, and while ${sizes.slow} clients trickle their headers (a line every 200 ms; the server closes each once FERRY_HEADERS_TIMEOUT_MS, 10 s, has passed):`,
      '',
      '| case | p50 | p99 | max | p50 ÷ idle |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| idle | ${ms(idle.p50)} | ${ms(idle.p99)} | ${ms(idle.max)} | 1.00× |`,
      `| ${sizes.slow} slow clients | ${ms(busy.p50)} | ${ms(busy.p99)} | ${ms(busy.max)} | ${(busy.p50 / idle.p50).toFixed(2)}× |`,
    );
  } finally {
    await ferry.stop(5_000);
    await rm(tmp, { recursive: true, force: true });
  }
  await publish({ name: 'connections', title: 'Ferry connection flood and slow clients benchmark', startedAt, quick: sizes === QUICK, body, notes: [] });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
