import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ASSET_ID, type BlobInfo } from '../../core/assets.js';
import { type TransferTerms, checkTransfer, signTransfer } from '../../core/transfer-signing.js';
import type { Clock } from '../../core/clock.js';
import { FerryError } from '../../core/errors.js';
import type { BlobStore, ByteRange, DownloadTerms, ServedBlobs, TransferQuery, UploadTerms } from '../blob-store.js';

/** Part files older than this belong to uploads that died (a live one keeps writing). */
const STALE_PART_MS = 60 * 60 * 1000;

/**
 * Blobs as files under one directory (`<data-dir>/blobs` by default), served by Ferry itself at
 * `/v1/blobs/{assetId}` behind HMAC-signed URLs. An upload streams into a part file of its own,
 * hashed on the way, and is renamed over the asset's file only once complete and synced, so a
 * cut or killed upload never leaves partial bytes under the asset's name.
 */
export class DiskBlobStore implements BlobStore, ServedBlobs {
  readonly kind = 'disk' as const;
  readonly served: ServedBlobs = this;

  /** `key` signs the URLs; the directory is made if missing. */
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
    private readonly clock: Clock,
  ) {
    mkdirSync(join(dir, 'parts'), { recursive: true });
  }

  /** Opens the directory and removes the part files uploads that died left behind. */
  static async open(dir: string, key: Buffer, clock: Clock): Promise<DiskBlobStore> {
    const blobs = new DiskBlobStore(dir, key, clock);
    for (const name of await readdir(join(dir, 'parts'))) {
      const path = join(dir, 'parts', name);
      const s = await stat(path).catch(() => null);
      if (s && clock.now() - s.mtimeMs > STALE_PART_MS) await rm(path, { force: true });
    }
    return blobs;
  }

  async uploadUrl(assetId: string, terms: UploadTerms): Promise<string> {
    return this.url({ method: 'PUT', assetId, expiresAt: terms.expiresAt, maxBytes: terms.maxBytes }, terms.origin);
  }

  async downloadUrl(assetId: string, terms: DownloadTerms): Promise<string> {
    return this.url({ method: 'GET', assetId, expiresAt: terms.expiresAt, maxBytes: 0 }, terms.origin);
  }

  authorize(method: 'GET' | 'PUT', assetId: string, query: TransferQuery): TransferTerms {
    const terms = { method, assetId, expiresAt: Number(query.expires), maxBytes: Number(query.max) };
    const refused = !query.sig || !Number.isSafeInteger(terms.expiresAt) || !Number.isSafeInteger(terms.maxBytes) ? 'the URL is not a signed transfer URL' : checkTransfer(this.key, terms, query.sig, this.clock.now());
    if (refused) throw new FerryError('FORBIDDEN', refused);
    return terms;
  }

  async stat(assetId: string): Promise<BlobInfo | null> {
    const path = this.pathOf(assetId);
    const s = await stat(path).catch(() => null);
    if (!s) return null;
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    return { sizeBytes: s.size, sha256: hash.digest('hex') };
  }

  async delete(assetId: string): Promise<void> {
    await rm(this.pathOf(assetId), { force: true });
  }

  async write(assetId: string, body: Readable, maxBytes: number, accept: (arrived: BlobInfo) => Promise<void>): Promise<BlobInfo> {
    const part = join(this.dir, 'parts', `${assetId}.${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new FerryError('PAYLOAD_TOO_LARGE', `the upload is larger than the ${maxBytes} bytes this URL allows; nothing was kept`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    let arrived: BlobInfo;
    try {
      await pipeline(body, measure, createWriteStream(part));
      arrived = { sizeBytes: size, sha256: hash.digest('hex') };
      await accept(arrived);
      // Synced before the rename: an asset READY in the store has its bytes on disk.
      const handle = await open(part, 'r');
      await handle.sync().finally(() => handle.close());
      await rename(part, this.pathOf(assetId));
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    return arrived;
  }

  async read(assetId: string, range: ByteRange | null): Promise<{ body: Readable; sizeBytes: number } | null> {
    const path = this.pathOf(assetId);
    // Opened before answering: a file deleted after this still streams whole.
    const handle = await open(path, 'r').catch(() => null);
    if (!handle) return null;
    const { size } = await handle.stat();
    return { body: handle.createReadStream(range ? { start: range.start, end: range.end } : {}), sizeBytes: size };
  }

  private pathOf(assetId: string): string {
    if (!ASSET_ID.test(assetId)) throw new FerryError('NOT_FOUND', `no asset ${assetId}`);
    return join(this.dir, assetId);
  }

  private url(terms: TransferTerms, origin: string): string {
    return `${origin}/v1/blobs/${terms.assetId}?expires=${terms.expiresAt}&max=${terms.maxBytes}&sig=${signTransfer(this.key, terms)}`;
  }
}
