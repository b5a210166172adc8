import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../core/errors.js';
import { toFerryError } from './error-handler.js';

/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** The `Last-Event-ID` a reconnecting follower sends, if any. */
export function lastEventId(req: FastifyRequest): string | null {
  const h = req.headers['last-event-id'];
  return typeof h === 'string' && h !== '' ? h : null;
}

/** A `Last-Event-ID` that must be a sequence number (of `what`), or null when none was sent. */
export function lastSequence(req: FastifyRequest, what: string): number | null {
  const id = lastEventId(req);
  if (id === null) return null;
  if (!/^\d{1,15}$/.test(id)) throw invalid(`Last-Event-ID: "${id}" is not ${what} sequence number`);
  return Number(id);
}

export interface ServerSentEvent {
  event: string;
  data: unknown;
  id?: string | number;
}

/** An open Server-Sent Events response: `signal` aborts when the client goes away or `end` is called. */
export interface EventStream {
  /** Writes an event; false when the socket's buffer is full and the writer should await `drained`. */
  send(event: ServerSentEvent): boolean;
  /** Resolves once the client has taken what was buffered, or has gone. */
  drained(): Promise<void>;
  readonly signal: AbortSignal;
  end(): void;
}

/**
 * Takes the response over from Fastify and opens a `text/event-stream` on it. Call it only once
 * the request is known to be good: errors from then on can no longer be a status code.
 */
export function openEventStream(req: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  // Set one by one (not in writeHead) so hooks can still read them, e.g. to leave streams out of request latency.
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('connection', 'keep-alive');
  // Tells nginx-like proxies not to buffer the stream.
  res.setHeader('x-accel-buffering', 'no');
  res.setHeader('x-request-id', req.id);
  res.writeHead(200);
  const closed = new AbortController();
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  const finish = (): void => {
    clearInterval(keepalive);
    closed.abort();
  };
  res.on('close', finish);
  return {
    signal: closed.signal,
    send: ({ event, data, id }) => {
      if (closed.signal.aborted) return true;
      // JSON never holds a raw newline, so the data is always a single `data:` line.
      return res.write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
    },
    drained: () =>
      new Promise((resolve) => {
        if (closed.signal.aborted || !res.writableNeedDrain) return resolve();
        const done = (): void => {
          res.off('drain', done);
          closed.signal.removeEventListener('abort', done);
          resolve();
        };
        res.on('drain', done);
        closed.signal.addEventListener('abort', done, { once: true });
      }),
    end: () => {
      finish();
      res.end();
    },
  };
}

/**
 * Streams what `source` yields as events until it ends or the client goes away, reading the next
 * only once a slow client has taken what was sent (so a whole log is never buffered for one). An
 * error after the stream opened is sent as an `error` event carrying the usual error body, then
 * the stream ends.
 */
export async function streamEvents(req: FastifyRequest, reply: FastifyReply, source: (signal: AbortSignal) => AsyncIterable<ServerSentEvent>): Promise<void> {
  const stream = openEventStream(req, reply);
  try {
    for await (const event of source(stream.signal)) {
      if (!stream.send(event)) await stream.drained();
      if (stream.signal.aborted) break;
    }
  } catch (err) {
    if (!stream.signal.aborted) {
      const error = toFerryError(err);
      if (error.code === 'INTERNAL') req.log.error({ err, reqId: req.id }, 'a stream failed');
      stream.send({ event: 'error', data: { error: error.toJSON() } });
    }
  } finally {
    stream.end();
  }
}
