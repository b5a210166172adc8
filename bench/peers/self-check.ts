/**
 * Checks the peer adapters end to end against the local Redis and PostgreSQL, small and quick:
 * for each peer, 20 latency samples and a 500-job throughput in each mode at concurrency 1 and 50
 * (no-op handler), and once streamed at 50 with a handler forwarding to an HTTP server started
 * here. Prints a markdown table, then checks that no Redis key or schema of ours is left. Exits 0
 * when every peer opened, ran without a failed job and cleaned up; a run cut short by its time
 * limit (a slow peer) is reported, not failed. Ends by itself within two minutes.
 *
 *   node --import tsx bench/peers/self-check.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { LOOPBACK } from '../lib/http-client.js';
import { ms, perSecond, summarize } from '../lib/stats.js';
import { allPeers } from './all.js';
import { latencySamples, throughput, type ThroughputOptions, type ThroughputResult } from './measure.js';
import { within, type PeerQueue } from './peer.js';
import { postgresUrl } from './postgres.js';

const TOTAL_BUDGET_MS = 110_000;
const LATENCY_BUDGET_MS = 12_000;
const CASE_BUDGET_MS = 6_000;
const N = 500;

type Case = { label: string } & Pick<ThroughputOptions, 'mode' | 'concurrency'> & { forward: boolean };
const CASES: Case[] = [
  { label: 'pre-enqueued c1', mode: 'preenqueued', concurrency: 1, forward: false },
  { label: 'pre-enqueued c50', mode: 'preenqueued', concurrency: 50, forward: false },
  { label: 'streamed c1', mode: 'streamed', concurrency: 1, forward: false },
  { label: 'streamed c50', mode: 'streamed', concurrency: 50, forward: false },
  { label: 'streamed c50, forwarding to HTTP', mode: 'streamed', concurrency: 50, forward: true },
];

const log = (msg: string): void => void process.stderr.write(`[peers] ${msg}\n`);

/** The stand-in for a model's HTTP server: answers every request 200 `{}`. */
async function startEchoServer(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function cell(r: ThroughputResult | undefined): string {
  if (!r) return 'not run';
  const rate = perSecond(r.perSecond);
  return r.cut ? `${rate} (cut: ${r.done}/${N} in ${r.seconds.toFixed(1)} s)` : rate;
}

/** What our adapters could have left behind: Redis keys under our prefix, schemas of ours. */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const redis = new Redis(process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    const keys: string[] = [];
    for (let round = 0; round < 10_000; round++) {
      const [next, batch] = await redis.scan(cursor, 'MATCH', 'ferry-bench:*', 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
      if (cursor === '0') break;
    }
    if (keys.length > 0) found.push(`${keys.length} Redis keys, e.g. ${keys[0]}`);
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const res = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_bench\\_%'`);
    for (const row of res.rows) found.push(`schema ${row.nspname}`);
  } finally {
    await client.end();
  }
  return found;
}

async function main(): Promise<number> {
  const deadline = Date.now() + TOTAL_BUDGET_MS;
  const problems: string[] = [];
  const rows: string[] = [];
  const { server, port } = await startEchoServer();
  const peers = allPeers();
  let current: PeerQueue | null = null;
  const watchdog = setTimeout(() => {
    log(`still running after ${TOTAL_BUDGET_MS / 1000} s: closing and exiting`);
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(1));
  }, TOTAL_BUDGET_MS + 5_000);
  watchdog.unref();
  // Ctrl-C: close the peer being measured (its keys or schema go with it), then exit.
  process.once('SIGINT', () => {
    log('interrupted: closing');
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  try {
    for (const peer of peers) {
      current = peer;
      log(`${peer.name}: opening`);
      try {
        await within(peer.open(), 30_000, `${peer.name}: open`);
        log(`${peer.name}: latency`);
        const lat = await latencySamples(peer, { warmup: 3, n: 20, deadline: Math.min(deadline, Date.now() + LATENCY_BUDGET_MS) });
        if (lat.error) problems.push(`${peer.name} latency: ${lat.error}`);
        const s = summarize(lat.samples);
        const results = new Map<Case, ThroughputResult>();
        for (const c of CASES) {
          if (Date.now() > deadline) break;
          log(`${peer.name}: ${c.label}`);
          const r = await throughput(peer, { n: N, concurrency: c.concurrency, mode: c.mode, forwardToPort: c.forward ? port : undefined, deadline: Math.min(deadline, Date.now() + CASE_BUDGET_MS) });
          if (r.failed > 0) problems.push(`${peer.name} ${c.label}: ${r.failed} failed, first: ${r.firstError}`);
          results.set(c, r);
        }
        const latCell = (v: number): string => `${ms(v)}${lat.cut ? ` (n=${s.n}, cut)` : ''}`;
        rows.push(`| ${peer.name} | ${latCell(s.p50)} | ${latCell(s.p99)} | ${CASES.map((c) => cell(results.get(c))).join(' | ')} |`);
      } catch (err) {
        problems.push(`${peer.name}: ${err instanceof Error ? err.message : String(err)}`);
        rows.push(`| ${peer.name} | failed | | ${CASES.map(() => '').join(' | ')} |`);
      } finally {
        log(`${peer.name}: closing`);
        await peer.close().catch((err: unknown) => problems.push(`${peer.name} close: ${err instanceof Error ? err.message : String(err)}`));
        current = null;
      }
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
  const header = ['peer', 'latency p50', 'latency p99', ...CASES.map((c) => c.label)];
  const table = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows];
  process.stdout.write(`\n${table.join('\n')}\n\n`);
  for (const left of await leftovers()) problems.push(`left behind: ${left}`);
  for (const p of problems) log(`PROBLEM: ${p}`);
  log(problems.length === 0 ? 'ok' : `${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
