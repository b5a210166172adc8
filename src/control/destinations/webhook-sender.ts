import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BlockList, LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { forbiddenAddress } from '../../core/outbound-addresses.js';

/** What one POST came to. `final`: no retry can change it (the address is forbidden, the receiver said 410 Gone). */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  final: boolean;
}

export interface WebhookSenderOptions {
  /** Ranges an operator allows though the policy forbids them (FERRY_WEBHOOK_ALLOW_CIDRS). */
  allowed: BlockList;
  timeoutMs: number;
  /** Bytes of an answer read before the connection is dropped; the body is not kept. */
  maxResponseBytes: number;
}

/**
 * POSTs webhooks safely: the host is resolved once, every address it resolves to is checked
 * against the outbound policy (core/outbound-addresses.ts) before any connection, and the
 * connection goes to the checked address (the socket's own lookup is replaced), so a name that
 * resolves elsewhere the second time (DNS rebinding) cannot redirect it. Redirects are not
 * followed; the call is bounded in time and in the bytes read back.
 */
export class WebhookSender {
  constructor(private readonly options: WebhookSenderOptions) {}

  async send(target: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const url = new URL(target);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      return { statusCode: null, error: `cannot resolve ${host}: ${(err as Error).message}`, final: false };
    }
    for (const a of addresses) {
      const reason = forbiddenAddress(a.address, this.options.allowed);
      if (reason) return { statusCode: null, error: `refused before connecting: ${host === a.address ? '' : `${host} resolves to ${a.address}; `}${reason} (FERRY_WEBHOOK_ALLOW_CIDRS may allow its range)`, final: true };
    }
    const { address, family } = addresses[0]!;
    const pinned: LookupFunction = (_name, opts, cb) => {
      if (opts.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else cb(null, address, family);
    };
    return this.post(url, pinned, headers, body);
  }

  private post(url: URL, pinned: LookupFunction, headers: Record<string, string>, body: string): Promise<SendResult> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<SendResult>((resolve) => {
      const started = request(
        url,
        {
          method: 'POST',
          lookup: pinned,
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'ferry-webhooks', ...headers },
          signal: AbortSignal.timeout(this.options.timeoutMs),
        },
        (res) => {
          const statusCode = res.statusCode ?? 0;
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > this.options.maxResponseBytes) res.destroy();
          });
          const done = (): void => {
            if (statusCode >= 200 && statusCode < 300) resolve({ statusCode, error: null, final: false });
            else if (statusCode >= 300 && statusCode < 400) resolve({ statusCode, error: `HTTP ${statusCode}: redirects are not followed`, final: false });
            else resolve({ statusCode, error: `HTTP ${statusCode}`, final: statusCode === 410 });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      started.on('error', (err) => resolve({ statusCode: null, error: err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer in ${this.options.timeoutMs} ms` : err.message, final: false }));
      started.end(body);
    });
  }
}
