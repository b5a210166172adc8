import http from 'node:http';

/** Every client in the benchmark talks to this address only. */
export const LOOPBACK = '127.0.0.1';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A JSON text; sent with content-type application/json unless the headers say otherwise. */
  body?: string;
  timeoutMs?: number;
}

/** A keep-alive agent, so connection set-up is paid once, as a real client would. */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/**
 * One HTTP request over node:http (not fetch: its per-request cost would make the client the
 * bottleneck at concurrency 50). Rejects on a transport error or when no answer came in time.
 */
export function httpRequest(agent: http.Agent, port: number, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const { body, timeoutMs = 10_000 } = options;
  const headers: Record<string, string | number> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: LOOPBACK, port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
