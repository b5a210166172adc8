import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FerryError } from '../core/errors.js';
import type { FerryClient } from './client.js';
import type { AssetInfo } from './types.js';

/** Told how many bytes of a transfer have moved, of how many. */
export type TransferProgress = (done: number, total: number) => void;

export interface UploadOptions {
  contentType?: string;
  description?: string;
  pinned?: boolean;
  ttlSeconds?: number;
  onProgress?: TransferProgress;
}

/*
 * Assets' bytes to and from files, in Node: streamed both ways, a file never read into memory
 * whole. Uploads declare the size and SHA-256, so Ferry keeps only the exact bytes; downloads are
 * checked against the same hash.
 */

/** Uploads a file (read twice: once to hash, once to send) or bytes, and answers the READY asset. */
export async function uploadAsset(client: FerryClient, source: string | Buffer, options: UploadOptions = {}): Promise<AssetInfo> {
  const sizeBytes = typeof source === 'string' ? (await stat(source)).size : source.length;
  const sha256 = typeof source === 'string' ? await hashFile(source) : createHash('sha256').update(source).digest('hex');
  const { onProgress, ...rest } = options;
  const asset = await client.assets.create({ contentType: 'application/octet-stream', ...rest, sizeBytes, sha256 });
  const body = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  const res = await transfer(asset.uploadUrl!, {
    method: 'PUT',
    headers: { 'content-type': asset.contentType, 'content-length': String(sizeBytes) },
    body: Readable.toWeb(body.pipe(counting(sizeBytes, onProgress))) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  await res.arrayBuffer();
  // The record, READY now (a bucket's upload URL tells Ferry nothing: reading the asset makes it look).
  return client.assets.get(asset.id);
}

/** Downloads a READY asset to a file, checking its SHA-256; answers the asset. */
export async function downloadAsset(client: FerryClient, assetId: string, path: string, onProgress?: TransferProgress): Promise<AssetInfo> {
  const asset = await client.assets.get(assetId);
  if (!asset.downloadUrl) throw new FerryError('ASSET_NOT_READY', `asset ${assetId} has not been uploaded yet`);
  const res = await transfer(asset.downloadUrl, {});
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body! as WebReadableStream), counting(asset.sizeBytes ?? 0, onProgress), hashing, createWriteStream(path));
  const got = hash.digest('hex');
  if (got !== asset.sha256) throw new FerryError('INTERNAL', `the download of ${assetId} hashes to ${got}, not ${asset.sha256}`);
  return asset;
}

/** A fetch of a transfer URL; an answer other than 2xx throws the error its body names. */
async function transfer(url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new FerryError('SERVER_UNREACHABLE', `cannot reach ${new URL(url).origin}: ${(err as Error).message}`, { cause: err });
  }
  if (res.ok) return res;
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  throw new FerryError(res.status === 413 ? 'PAYLOAD_TOO_LARGE' : res.status === 403 ? 'FORBIDDEN' : 'INTERNAL', body?.error?.message ?? `HTTP ${res.status} from ${new URL(url).origin}`);
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function counting(total: number, onProgress: TransferProgress | undefined): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, next) {
      done += chunk.length;
      onProgress?.(done, total);
      next(null, chunk);
    },
  });
}
