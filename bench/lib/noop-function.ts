import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOOPBACK } from './http-client.js';

/**
 * The no-op server-mode function, as a plain Node script (no TypeScript, no dependencies), so the
 * same file runs under Ferry and directly under the benchmark. It answers `POST /` at once with
 * `{"receivedAt": t}`, where t = performance.timeOrigin + performance.now() when the request
 * arrived, answers `GET /health` with 200, and keeps the receive times by `Ferry-Task-Id`
 * (`GET /times`). When BENCH_NOTIFY_PORT is set it also sends `<taskId> <receivedAt>` as a UDP
 * datagram to the benchmark after the response is written, so an async submit can be timed
 * without polling. On start it writes `{port, pid}` to BENCH_FN_DIR/<BENCH_FN_NAME>-<pid>.json.
 * When BENCH_GO_FILE is set it listens only once that file exists, so tasks can be queued for an
 * instance that is not ready yet (the pre-enqueued throughput case).
 */
export const NOOP_FUNCTION_SOURCE = String.raw`
import http from 'node:http';
import dgram from 'node:dgram';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const dir = process.env.BENCH_FN_DIR;
const name = process.env.BENCH_FN_NAME ?? 'direct';
const notifyPort = Number(process.env.BENCH_NOTIFY_PORT ?? 0);
const udp = notifyPort > 0 ? dgram.createSocket('udp4') : null;
const MAX_KEPT = 200000;
const times = new Map();

const server = http.createServer((req, res) => {
  const receivedAt = performance.timeOrigin + performance.now();
  if (req.method === 'POST') {
    req.resume();
    const body = '{"receivedAt":' + receivedAt + '}';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    const id = req.headers['ferry-task-id'];
    if (typeof id === 'string') {
      const seen = times.get(id);
      if (seen) seen.push(receivedAt);
      else if (times.size < MAX_KEPT) times.set(id, [receivedAt]);
      if (udp) udp.send(id + ' ' + receivedAt, notifyPort, '127.0.0.1');
    }
    return;
  }
  req.resume();
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  } else if (req.url === '/times') {
    const body = JSON.stringify(Object.fromEntries(times));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
});
// Longer than any pause in the benchmark, so a kept-alive socket is never closed under a request.
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
const listen = () => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const file = join(dir, name + '-' + process.pid + '.json');
  writeFileSync(file + '.tmp', JSON.stringify({ port: server.address().port, pid: process.pid }));
  renameSync(file + '.tmp', file);
});
const goFile = process.env.BENCH_GO_FILE;
if (goFile) {
  const waiting = setInterval(() => {
    if (!existsSync(goFile)) return;
    clearInterval(waiting);
    listen();
  }, 2);
} else {
  listen();
}
const stop = () => {
  server.close();
  server.closeAllConnections();
  if (udp) udp.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;

export const NOOP_FUNCTION_FILE = 'noop-function.mjs';

export async function writeNoopFunction(dir: string): Promise<string> {
  const file = join(dir, NOOP_FUNCTION_FILE);
  await writeFile(file, NOOP_FUNCTION_SOURCE);
  return file;
}

/** The port files the no-op function wrote under `name` (one per process that started). */
export async function functionProcesses(dir: string, name: string): Promise<{ port: number; pid: number }[]> {
  const out: { port: number; pid: number }[] = [];
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith(`${name}-`) || !entry.endsWith('.json')) continue;
    out.push(JSON.parse(await readFile(join(dir, entry), 'utf8')) as { port: number; pid: number });
  }
  return out;
}

/** Starts the no-op function directly, outside Ferry, and resolves once it listens. */
export async function startDirectFunction(nodePath: string, file: string, dir: string, timeoutMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(nodePath, [file], { cwd: dir, env: { ...process.env, BENCH_FN_DIR: dir, BENCH_FN_NAME: 'direct' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const mine = (await functionProcesses(dir, 'direct')).find((p) => p.pid === child.pid);
    if (mine) return { child, port: mine.port };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`the no-op function did not start within ${timeoutMs} ms`);
}

/**
 * Receives the functions' UDP notes: the time each task reached its function. A note may arrive
 * before the submit's 202 does, so notes wait here until asked for.
 */
export class Receipts {
  private readonly socket = dgram.createSocket('udp4');
  private readonly arrived = new Map<string, number>();
  private readonly waiters = new Map<string, (receivedAt: number) => void>();

  async listen(): Promise<number> {
    this.socket.on('message', (msg) => {
      const [id, at] = msg.toString('utf8').split(' ');
      if (!id || !at) return;
      const waiter = this.waiters.get(id);
      if (waiter) {
        this.waiters.delete(id);
        waiter(Number(at));
      } else if (this.arrived.size < 100_000) {
        this.arrived.set(id, Number(at));
      }
    });
    await new Promise<void>((resolve) => this.socket.bind(0, LOOPBACK, resolve));
    return this.socket.address().port;
  }

  /** The receive time of a task, or null when none came within `timeoutMs`. */
  wait(taskId: string, timeoutMs: number): Promise<number | null> {
    const at = this.arrived.get(taskId);
    if (at !== undefined) {
      this.arrived.delete(taskId);
      return Promise.resolve(at);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(taskId);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(taskId, (receivedAt) => {
        clearTimeout(timer);
        resolve(receivedAt);
      });
    });
  }

  /** Forgets notes nobody waits for (those of sync invokes, whose time comes in the body). */
  clear(): void {
    this.arrived.clear();
  }

  close(): void {
    this.socket.close();
  }
}
