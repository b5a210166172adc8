import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The terms a pre-signed transfer URL grants: one method on one asset until `expiresAt`, an
 * upload at most `maxBytes` long. The signature is an HMAC-SHA256 over all of them, so changing
 * any (a later expiry, a larger limit, GET for PUT, another asset) breaks it.
 */
export interface TransferTerms {
  method: 'GET' | 'PUT';
  assetId: string;
  expiresAt: number;
  maxBytes: number;
}

export function signTransfer(key: Buffer, terms: TransferTerms): string {
  return createHmac('sha256', key).update(`${terms.method}\n${terms.assetId}\n${terms.expiresAt}\n${terms.maxBytes}`).digest('base64url');
}

/** Why a transfer is refused (tampered or expired), or null when its signature and expiry hold. */
export function checkTransfer(key: Buffer, terms: TransferTerms, signature: string, now: number): string | null {
  const expected = Buffer.from(signTransfer(key, terms));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the URL signature does not match: the URL was altered or is not for this request';
  if (now > terms.expiresAt) return `the URL expired at ${new Date(terms.expiresAt).toISOString()}`;
  return null;
}
