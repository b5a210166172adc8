import type { Readable } from 'node:stream';
import type { BlobInfo } from '../core/assets.js';
import type { TransferTerms } from '../core/transfer-signing.js';

/** What a pre-signed upload URL allows: one PUT of at most `maxBytes`, until `expiresAt`. */
export interface UploadTerms {
  /** Scheme, host and port the caller reached Ferry at, for URLs Ferry serves itself. */
  origin: string;
  expiresAt: number;
  maxBytes: number;
  contentType: string;
  /** As declared, when they were: a store that can sign them in makes its service refuse other bytes. */
  sizeBytes: number | null;
  sha256: string | null;
}

/** What a pre-signed download URL allows: GETs (ranges too) until `expiresAt`. */
export interface DownloadTerms {
  origin: string;
  expiresAt: number;
}

/** The signed query of a transfer URL Ferry serves: `?expires=MS&max=BYTES&sig=HMAC`. */
export interface TransferQuery {
  expires?: string;
  max?: string;
  sig?: string;
}

/** A byte range of a download, both ends included (HTTP's `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The blob store port: assets' bytes, keyed by asset id, moved in and out by clients through
 * pre-signed URLs so neither the bytes nor storage credentials pass through the caller's API
 * key. Adapters: `disk` (Ferry serves the URLs itself, see `served`) and `s3`.
 */
export interface BlobStore {
  readonly kind: 'disk' | 's3';
  uploadUrl(assetId: string, terms: UploadTerms): Promise<string>;
  downloadUrl(assetId: string, terms: DownloadTerms): Promise<string>;
  /** The size and SHA-256 of the bytes stored under the id once an upload completed; null before. */
  stat(assetId: string): Promise<BlobInfo | null>;
  /** Removes the bytes; nothing stored is no error. */
  delete(assetId: string): Promise<void>;
  /** Transfers Ferry serves itself (the disk adapter's URLs point at Ferry); absent when the URLs point elsewhere. */
  readonly served?: ServedBlobs;
}

export interface ServedBlobs {
  /** The terms a served transfer URL's query grants; throws FORBIDDEN naming why (altered, expired, unsigned). */
  authorize(method: 'GET' | 'PUT', assetId: string, query: TransferQuery): TransferTerms;
  /**
   * Stores the body under the id, streaming, hashing as it goes: the bytes are put under the id
   * only once the whole body arrived, is on disk, and `accept` (told what arrived) throws nothing.
   * A body longer than `maxBytes` is cut off and nothing is kept (throws PAYLOAD_TOO_LARGE); one
   * that ends early, or that `accept` refuses, keeps nothing either.
   */
  write(assetId: string, body: Readable, maxBytes: number, accept: (arrived: BlobInfo) => Promise<void>): Promise<BlobInfo>;
  /** The stored bytes, or a range of them; null when nothing is stored. */
  read(assetId: string, range: ByteRange | null): Promise<{ body: Readable; sizeBytes: number } | null>;
}
