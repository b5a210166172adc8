import { type WriteStream, createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { sleep } from '../../core/clock.js';
import { LIMITS } from '../../core/limits.js';
import { taskError } from '../../core/task-errors.js';
import { taskHeaders } from '../task-files.js';
import type { RunResult, TaskContext } from './runtime.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A 2xx response as the task's output, kept as the function gave it: up to the inline limit and
 * valid UTF-8, its text and content type (text/plain when it named none); larger or binary, its
 * bytes streamed into `spillPath`, to become the task's `response` asset. No body is a null output.
 * Events rather than an async iterator: this runs for every server-mode task.
 */
function responseOutput(res: http.IncomingMessage, spillPath: string): Promise<RunResult> {
  const declared = res.headers['content-type'];
  const asFile: RunResult = { kind: 'ok', output: null, outputFile: { path: spillPath, name: 'response', contentType: declared || 'application/octet-stream' } };
  return new Promise<RunResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let spill: WriteStream | null = null;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!spill && size > LIMITS.maxInlineOutputBytes) {
        spill = createWriteStream(spillPath).on('error', reject);
        for (const c of chunks.splice(0)) spill.write(c);
      }
      if (!spill) chunks.push(chunk);
      else if (!spill.write(chunk)) {
        res.pause();
        spill.once('drain', () => res.resume());
      }
    });
    res.on('error', reject);
    res.on('end', () => {
      if (spill) return void spill.end(() => resolve(asFile));
      const body = Buffer.concat(chunks);
      if (body.length === 0) return resolve({ kind: 'ok', output: null });
      try {
        resolve({ kind: 'ok', output: utf8.decode(body), outputType: declared || 'text/plain; charset=utf-8' });
      } catch {
        writeFile(spillPath, body).then(() => resolve(asFile), reject);
      }
    });
  });
}

/** How often a starting server's health path is tried: a refused connect costs next to nothing. */
const HEALTH_POLL_MS = 20;

/**
 * The agent's side of a server-mode instance, whatever runs it (a process, a container): waits
 * for its health path, sends each task as a request with the contract's headers, and tells
 * whether it freed itself after an aborted request. It listens on 127.0.0.1:`port`.
 */
export class ServerClient {
  private readonly agent: http.Agent;

  constructor(
    readonly port: number,
    concurrency: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
  }

  /**
   * Polls `healthPath` until it answers 200. `gone` says why the server can no longer come up
   * (it exited), or null while it runs. Throws with the reason it did not become healthy.
   */
  async waitHealthy(healthPath: string, startupMs: number, gone: () => Promise<string | null>, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + startupMs;
    while (Date.now() < deadline) {
      if (signal.aborted) throw new Error('start cancelled');
      const reason = await gone();
      if (reason !== null) throw new Error(`server ${reason} before it became healthy`);
      if ((await this.probe(healthPath, 1000)) === 200) return;
      await sleep(HEALTH_POLL_MS, signal);
    }
    throw new Error(`server did not answer 200 on ${healthPath} within ${startupMs / 1000} s`);
  }

  /**
   * Sends one task to the inference path. `onAbort` runs when the task is stopped mid-request:
   * the server may still be busy with it (see `freedWithin`). A request on a kept-alive socket
   * that the server closed as it was sent (reset before any answer: the server had let the idle
   * socket go, and read nothing) goes once more on a fresh socket, as Node's documentation advises.
   */
  query(ctx: TaskContext, inferencePath: string, onAbort: () => void, firstTry = true): Promise<RunResult> {
    const body = JSON.stringify(ctx.task.input ?? null);
    return new Promise<RunResult>((resolve) => {
      let answered = false;
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: inferencePath,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...taskHeaders(ctx.task, ctx.files) },
        },
        (res) => {
          answered = true;
          const status = res.statusCode ?? 0;
          const broken = (): void => resolve(ctx.signal.aborted ? { kind: 'aborted' } : { kind: 'error', error: taskError('CONNECTION', 'the function closed the response early') });
          if (status >= 200 && status < 300) {
            void responseOutput(res, join(ctx.files.dir, 'response')).then(resolve, broken);
            return;
          }
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text = (text + c).slice(0, 2000)));
          res.on('end', () => resolve({ kind: 'error', error: taskError('HTTP_STATUS', `function answered ${status}: ${text}`, { httpStatus: status }) }));
          res.on('error', broken);
        },
      );
      const abort = (): void => {
        req.destroy();
        resolve({ kind: 'aborted' });
        onAbort();
      };
      ctx.signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => ctx.signal.removeEventListener('abort', abort));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (ctx.signal.aborted) return resolve({ kind: 'aborted' });
        if (firstTry && !answered && req.reusedSocket && err.code === 'ECONNRESET') return resolve(this.query(ctx, inferencePath, onAbort, false));
        resolve({ kind: 'error', error: taskError('CONNECTION', `cannot reach the function: ${err.message}`) });
      });
      req.end(body);
    });
  }

  /** Whether the server answers its health path within `ms` (after an aborted request: did it free itself?). */
  async freedWithin(healthPath: string, ms: number): Promise<boolean> {
    return (await this.probe(healthPath, ms)) === 200;
  }

  close(): void {
    this.agent.destroy();
  }

  private probe(path: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path, timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
    });
  }
}

/** A free TCP port on 127.0.0.1 for a server instance's PORT. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The last few KiB of an instance's output, quoted in failure reasons. */
export class OutputTail {
  private buf = '';
  add(text: string): void {
    this.buf = (this.buf + text).slice(-2000);
  }
  text(): string {
    const t = this.buf.trim();
    return t === '' ? '' : `; last output: ${t.slice(-500)}`;
  }
}
