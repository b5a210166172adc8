/**
 * How fast a follower of a live stream hears of a change: a task's end and a cancel through
 * `GET /v1/tasks/{id}/events`, and a log line through `/logs?follow=true`, on one server whose
 * agent and follower share the replica (the case that wakes followers at once). The floor is a
 * plain API round trip on the same server; log lines also wait for the agent's log flush
 * (FERRY_LOG_FLUSH_MS, 200 ms by default), which the table names.
 *
 *   node --import tsx bench/streams.ts [--quick]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readServerSentEvents, type ServerSentEvent } from '../src/sdk/sse.js';
import { FerryServer } from './lib/ferry-server.js';
import { publish } from './lib/report.js';
import { ms, ratio, summarize, type Summary } from './lib/stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A server-mode function that answers after input.ms. */
const SLEEPER = `require('node:http').createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.url === '/health') return res.end('ok');
    setTimeout(() => res.end('{}'), JSON.parse(body || '{}').ms || 0);
  });
}).listen(Number(process.env.PORT));`;

/** A job that prints the wall-clock time on a line every input.every ms, input.lines times. */
const TICKER = `const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
let n = 0;
const tick = setInterval(() => { console.log(String(Date.now())); if (++n === input.lines) clearInterval(tick); }, input.every);`;

export async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const startedAt = new Date();
  const n = quick ? { ends: 30, cancels: 20, logTasks: 2, round: 200 } : { ends: 200, cancels: 100, logTasks: 5, round: 1000 };
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-streams-'));
  const server = await FerryServer.start(REPO_ROOT, join(dir, 'data'), 30_000);
  try {
    await writeFile(join(dir, 'sleeper.cjs'), SLEEPER);
    await writeFile(join(dir, 'ticker.cjs'), TICKER);
    const sleeper = await deploy(server, 'bench-sleeper', {
      mode: 'server',
      runtime: { type: 'process', command: [process.execPath, join(dir, 'sleeper.cjs')] },
      server: { inferencePath: '/', healthPath: '/health', startupTimeoutSeconds: 30 },
      concurrency: 4,
      stopGraceSeconds: 1,
    });
    const ticker = await deploy(server, 'bench-ticker', { mode: 'job', runtime: { type: 'process' }, job: { command: [process.execPath, join(dir, 'ticker.cjs')] }, concurrency: 4 });

    const round: number[] = [];
    for (let i = 0; i < n.round; i++) {
      const t0 = performance.now();
      await server.json('GET', '/healthz', 200);
      round.push(performance.now() - t0);
    }

    // A task's end: from the moment the store recorded it to the follower's `end` event.
    const ends: number[] = [];
    for (let i = 0; i < n.ends; i++) {
      const { id } = await server.json<{ id: string }>('POST', '/v1/tasks', 202, { functionId: sleeper, input: { ms: 30 } });
      await follow(server, `/v1/tasks/${id}/events`, (e) => {
        if (e.event !== 'end') return false;
        ends.push(Date.now() - Date.parse((JSON.parse(e.data) as { finishedAt: string }).finishedAt));
        return true;
      });
    }

    // A cancel: from sending it to the follower's CANCELLING (or CANCELLED) event, beside the cancel's own answer.
    const cancels: number[] = [];
    const cancelCalls: number[] = [];
    for (let i = 0; i < n.cancels; i++) {
      const { id } = await server.json<{ id: string }>('POST', '/v1/tasks', 202, { functionId: sleeper, input: { ms: 60_000 } });
      let sent = 0;
      await follow(server, `/v1/tasks/${id}/events`, (e) => {
        const status = (JSON.parse(e.data) as { status: string }).status;
        if (status === 'RUNNING' && sent === 0) {
          sent = performance.now();
          void server.json('POST', `/v1/tasks/${id}/cancel`, 202).then(() => cancelCalls.push(performance.now() - sent));
        }
        if (sent > 0 && (status === 'CANCELLING' || status === 'CANCELLED')) {
          cancels.push(performance.now() - sent);
          return true;
        }
        return false;
      });
    }

    // A log line: from the job printing it to the follower's `log` event, through the agent's flush.
    const lines: number[] = [];
    for (let i = 0; i < n.logTasks; i++) {
      const { id } = await server.json<{ id: string }>('POST', '/v1/tasks', 202, { functionId: ticker, input: { lines: 20, every: 50 } });
      await follow(server, `/v1/tasks/${id}/logs?follow=true`, (e) => {
        if (e.event === 'end') return true;
        const line = JSON.parse(e.data) as { stream: string; text: string };
        if (line.stream === 'stdout') lines.push(Date.now() - Number(line.text));
        return false;
      });
    }

    const floor = summarize(round);
    const row = (what: string, s: Summary, vs: Summary | null): string =>
      `| ${what} (n=${s.n}) | ${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)} | ${vs ? `${ratio(s.p50, vs.p50)} / ${ratio(s.p99, vs.p99)}` : '—'} |`;
    await publish({
      name: 'streams',
      title: 'Ferry stream latency',
      startedAt,
      quick,
      body: [
        '| case | p50 / p99 / max | vs. an API round trip, p50 / p99 |',
        '| --- | ---: | ---: |',
        row('floor: GET /healthz round trip', floor, null),
        row('task end → follower’s `end` event', summarize(ends), floor),
        row('POST cancel answered', summarize(cancelCalls), floor),
        row('cancel sent → follower’s CANCELLING event', summarize(cancels), floor),
        row('log line printed → follower’s `log` event (agent flushes every 200 ms)', summarize(lines), floor),
      ],
      notes: [
        'end and log latencies compare wall clocks on one machine (the store’s clock is the system clock on SQLite); times in the store have millisecond precision',
        `server errors logged: ${server.errorCount}${server.errors.length ? ` (${server.errors.join(' | ')})` : ''}`,
      ],
    });
  } finally {
    await server.stop(5000);
    await rm(dir, { recursive: true, force: true });
  }
}

async function deploy(server: FerryServer, name: string, version: Record<string, unknown>): Promise<string> {
  const fn = await server.json<{ id: string; version: { id: string } }>('POST', '/v1/functions', 201, { name, version });
  await server.json('PUT', `/v1/functions/${fn.id}/versions/${fn.version.id}/deployment`, 202, { minInstances: 1, maxInstances: 1 });
  for (let i = 0; i < 300; i++) {
    const q = await server.json<{ instances: Record<string, number> }>('GET', `/v1/functions/${fn.id}/queue`, 200);
    if ((q.instances.IDLE ?? 0) > 0) return fn.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready`);
}

/** Reads a stream until `done` says so, or 30 s pass. */
async function follow(server: FerryServer, path: string, done: (e: ServerSentEvent) => boolean): Promise<void> {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(), 30_000);
  try {
    const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.adminKey}` }, signal: aborter.signal });
    if (!res.ok || !res.body) throw new Error(`${path}: HTTP ${res.status}`);
    for await (const e of readServerSentEvents(res.body)) if (done(e)) return;
    throw new Error(`${path} ended early`);
  } finally {
    clearTimeout(timer);
    aborter.abort();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv.slice(2));
