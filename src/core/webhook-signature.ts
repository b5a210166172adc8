import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalid } from './errors.js';

/*
 * Standard Webhooks (standardwebhooks.com): a message is signed with HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}`, with the key a `whsec_` secret carries in base64;
 * `webhook-signature` lists `v1,<base64>` signatures separated by spaces. Written here rather than
 * taken from the reference library: it is a few lines over node:crypto, which is native (the
 * library hashes in JavaScript); the tests check both against the library.
 */

const SECRET_PREFIX = 'whsec_';
/** A shorter key is refused: HMAC-SHA256's strength needs 24 bytes at least to stay meaningful. */
export const MIN_SECRET_BYTES = 24;
/** How far a webhook's timestamp may be from the receiver's clock (the standard's five minutes). */
export const TIMESTAMP_TOLERANCE_S = 300;

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The key a `whsec_` secret carries; the error names `field`. */
export function secretKey(secret: string, field = 'secret'): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw invalid(`${field}: a secret is "whsec_" followed by base64 (Standard Webhooks)`);
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw invalid(`${field}: the part after "whsec_" is not base64`);
  const key = Buffer.from(b64, 'base64');
  if (key.length < MIN_SECRET_BYTES) throw invalid(`${field}: the key is ${key.length} bytes; at least ${MIN_SECRET_BYTES} are needed`);
  return key;
}

export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function signature(key: Buffer, id: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** The headers that sign `body` as message `id`, sent at `nowMs`. */
export function signWebhook(key: Buffer, id: string, nowMs: number, body: Buffer | string): WebhookHeaders {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature(key, id, timestamp, body)}` };
}

/**
 * Checks a received webhook's headers against `body`: all three present, the timestamp within the
 * tolerance of `nowMs`, one `v1` signature matching (compared in constant time). Returns the
 * reason it is refused, or null when it verifies.
 */
export function verifyWebhook(key: Buffer, headers: Partial<Record<keyof WebhookHeaders, string | string[] | undefined>>, body: Buffer, nowMs: number): string | null {
  const id = one(headers['webhook-id']);
  const timestamp = one(headers['webhook-timestamp']);
  const signatures = one(headers['webhook-signature']);
  if (!id || !timestamp || !signatures) return 'webhook-id, webhook-timestamp and webhook-signature headers are required';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp is not a number of seconds';
  if (Math.abs(Number(timestamp) * 1000 - nowMs) > TIMESTAMP_TOLERANCE_S * 1000) return `webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_S} s from now`;
  const expected = Buffer.from(signature(key, id, timestamp, body));
  for (const entry of signatures.split(' ')) {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const given = Buffer.from(sig);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return 'no webhook-signature matches the body';
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
