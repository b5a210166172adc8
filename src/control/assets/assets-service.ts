import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BlobStore, ByteRange, TransferQuery } from '../../blobs/blob-store.js';
import { type AssetRecord, type AssetStatus, type AssetTransfer, type BlobInfo, type CreateAssetRequest, type OutputFileTerms, newAsset, uploadMismatch } from '../../core/assets.js';
import type { TransferTerms } from '../../core/transfer-signing.js';
import type { Clock } from '../../core/clock.js';
import { FerryError, invalid } from '../../core/errors.js';
import { ID_PREFIX, newId } from '../../core/ids.js';
import { LIMITS } from '../../core/limits.js';
import type { Page } from '../../core/types.js';
import type { PageRequest } from '../../store/paging.js';
import type { Store } from '../../store/store.js';

/** An asset with what its caller may do next: an upload URL while PENDING, a download URL once READY. */
export interface AssetWithUrls {
  asset: AssetRecord;
  uploadUrl: string | null;
  downloadUrl: string | null;
  /** When the URL given stops working. */
  urlExpiresAt: number | null;
}

/**
 * Assets: their records in the store, their bytes in the blob store. Callers get pre-signed URLs
 * to move the bytes; Ferry answers the disk adapter's URLs itself (`receive`, `send`). An asset
 * is READY only once bytes of the declared size and checksum are stored.
 */
export class AssetsService {
  /** Assets whose upload this replica is receiving. */
  private readonly receiving = new Set<string>();

  constructor(
    private readonly store: Pick<Store, 'assets'>,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: string, req: CreateAssetRequest, origin: string): Promise<AssetWithUrls> {
    if (req.sizeBytes !== undefined && req.sizeBytes > LIMITS.maxAssetBytes) throw new FerryError('PAYLOAD_TOO_LARGE', `sizeBytes: an asset holds at most ${LIMITS.maxAssetBytes} bytes`);
    const now = this.clock.now();
    const asset = newAsset(newId(ID_PREFIX.asset, now), tenantId, req, now, LIMITS.defaultAssetTtlSeconds);
    await this.store.assets.createAsset(asset);
    return this.withUrls(asset, origin);
  }

  async get(tenantId: string, assetId: string, origin: string): Promise<AssetWithUrls> {
    return this.withUrls(await this.record(tenantId, assetId), origin);
  }

  list(tenantId: string, filter: { status?: AssetStatus; taskId?: string }, page: PageRequest): Promise<Page<AssetRecord>> {
    return this.store.assets.listAssets(tenantId, filter, page);
  }

  async delete(tenantId: string, assetId: string): Promise<void> {
    const outcome = await this.store.assets.deleteAsset(tenantId, assetId);
    if (outcome === 'absent') throw notFound(assetId);
    if (outcome === 'in-use') throw new FerryError('ASSET_IN_USE', `asset ${assetId} is an input of a queued or running task; delete it once that task has ended`);
    await this.blobs.delete(assetId);
  }

  /** Download terms of READY assets for an agent; URLs Ferry serves itself are paths, resolved against the control plane it talks to. */
  async transfersFor(tenantId: string, assetIds: string[]): Promise<AssetTransfer[]> {
    const expiresAt = this.clock.now() + LIMITS.transferUrlSeconds * 1000;
    return Promise.all(
      assetIds.map(async (id) => {
        const asset = await this.store.assets.getAsset(tenantId, id);
        if (!asset || asset.status !== 'READY') throw new FerryError('ASSET_NOT_FOUND', `input asset ${id} is not there`);
        return { id, sizeBytes: asset.sizeBytes!, sha256: asset.sha256!, url: await this.blobs.downloadUrl(id, { origin: '', expiresAt }) };
      }),
    );
  }

  /** A PENDING output asset of a task, as its agent declares it, with the URL (a path when Ferry serves it) to PUT the bytes to. */
  async createOutput(tenantId: string, taskId: string, file: OutputFileTerms): Promise<{ id: string; uploadUrl: string }> {
    const now = this.clock.now();
    const asset = newAsset(newId(ID_PREFIX.asset, now), tenantId, file, now, LIMITS.defaultAssetTtlSeconds, { taskId, name: file.name });
    await this.store.assets.createAsset(asset);
    const expiresAt = now + LIMITS.transferUrlSeconds * 1000;
    return { id: asset.id, uploadUrl: await this.blobs.uploadUrl(asset.id, { origin: '', expiresAt, maxBytes: file.sizeBytes, contentType: file.contentType, sizeBytes: file.sizeBytes, sha256: asset.sha256 }) };
  }

  /** A READY asset's bytes, for the control plane's own reading (a workflow Map's items). */
  async open(tenantId: string, assetId: string): Promise<{ asset: AssetRecord; body: Readable }> {
    const asset = await this.record(tenantId, assetId);
    if (asset.status !== 'READY') throw new FerryError('ASSET_NOT_READY', `asset ${assetId} has not been uploaded yet`);
    const gone = (): FerryError => new FerryError('ASSET_NOT_FOUND', `the bytes of asset ${assetId} are gone from the blob store`);
    if (this.blobs.served) {
      const read = await this.blobs.served.read(assetId, null);
      if (!read) throw gone();
      return { asset, body: read.body };
    }
    const res = await fetch(await this.blobs.downloadUrl(assetId, { origin: '', expiresAt: this.clock.now() + LIMITS.transferUrlSeconds * 1000 }));
    if (!res.ok || !res.body) throw gone();
    return { asset, body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) };
  }

  /** Stores a file the control plane made (a workflow Map's results) as a READY asset of the tenant. */
  async storeFile(tenantId: string, req: CreateAssetRequest, path: string): Promise<AssetRecord> {
    const sizeBytes = (await stat(path)).size;
    const now = this.clock.now();
    const asset = newAsset(newId(ID_PREFIX.asset, now), tenantId, { ...req, sizeBytes }, now, LIMITS.defaultAssetTtlSeconds);
    await this.store.assets.createAsset(asset);
    let stored: BlobInfo | null;
    if (this.blobs.served) {
      stored = await this.blobs.served.write(asset.id, createReadStream(path), sizeBytes, async () => {});
    } else {
      const url = await this.blobs.uploadUrl(asset.id, { origin: '', expiresAt: now + LIMITS.transferUrlSeconds * 1000, maxBytes: sizeBytes, contentType: req.contentType, sizeBytes, sha256: null });
      const res = await fetch(url, { method: 'PUT', body: Readable.toWeb(createReadStream(path)) as ReadableStream, headers: { 'content-type': req.contentType, 'content-length': String(sizeBytes) }, duplex: 'half' } as RequestInit);
      if (!res.ok) throw new FerryError('STORE_UNAVAILABLE', `the blob store refused asset ${asset.id}: HTTP ${res.status}`);
      stored = await this.blobs.stat(asset.id);
    }
    const ready = stored && (await this.store.assets.markAssetReady(asset.id, stored, this.clock.now()));
    if (!ready) throw new FerryError('STORE_UNAVAILABLE', `asset ${asset.id} was not stored`);
    return ready;
  }

  /** Deletes up to `limit` expired assets (not pinned, held by no live task) with their bytes; how many went. */
  async sweepExpired(limit: number): Promise<number> {
    let deleted = 0;
    for (const asset of await this.store.assets.listExpiredAssets(this.clock.now(), limit)) {
      // Held since it was listed (a submit named it): kept.
      if ((await this.store.assets.deleteAsset(asset.tenantId, asset.id)) !== 'deleted') continue;
      await this.blobs.delete(asset.id);
      deleted++;
    }
    return deleted;
  }

  /** The body of a PUT to a served upload URL: stored, checked against what was declared, and the asset made READY. */
  async receive(assetId: string, body: Readable, maxBytes: number): Promise<AssetRecord> {
    const served = this.servedBlobs();
    const asset = await this.store.assets.assetById(assetId);
    if (!asset) throw notFound(assetId);
    const alreadyReady = (): FerryError => new FerryError('ASSET_READY', `asset ${assetId} is already uploaded; create another asset for other bytes`);
    if (asset.status === 'READY') throw alreadyReady();
    // One upload of an asset at a time here: a second would race the first to the asset's name.
    if (this.receiving.has(assetId)) throw new FerryError('ASSET_UPLOADING', `an upload of asset ${assetId} is already in progress; retry once it has ended`);
    this.receiving.add(assetId);
    let stored: BlobInfo;
    try {
      // Checked before the bytes take the asset's name: refused bytes never replace anything.
      stored = await served.write(assetId, body, maxBytes, async (arrived) => {
        const mismatch = uploadMismatch(asset, arrived);
        if (mismatch) throw invalid(`${mismatch}; nothing was kept, the upload may be retried`);
        if ((await this.store.assets.assetById(assetId))?.status === 'READY') throw alreadyReady();
      });
    } finally {
      this.receiving.delete(assetId);
    }
    const ready = await this.store.assets.markAssetReady(assetId, stored, this.clock.now());
    if (!ready) {
      // Deleted while its bytes were on the way.
      await this.blobs.delete(assetId);
      throw notFound(assetId);
    }
    return ready;
  }

  /** A served download: the READY asset's record and its bytes (or a range of them). */
  async send(assetId: string, range: (sizeBytes: number) => ByteRange | null): Promise<{ asset: AssetRecord; body: Readable; range: ByteRange | null }> {
    const served = this.servedBlobs();
    const asset = await this.store.assets.assetById(assetId);
    if (!asset) throw notFound(assetId);
    if (asset.status !== 'READY') throw new FerryError('ASSET_NOT_READY', `asset ${assetId} has not been uploaded yet`);
    const wanted = range(asset.sizeBytes!);
    const read = await served.read(assetId, wanted);
    if (!read) throw new FerryError('NOT_FOUND', `the bytes of asset ${assetId} are gone from the blob store`);
    return { asset, body: read.body, range: wanted };
  }

  /** Checks a served transfer's signature; the terms it grants, or FORBIDDEN. */
  authorize(method: 'GET' | 'PUT', assetId: string, query: TransferQuery): TransferTerms {
    return this.servedBlobs().authorize(method, assetId, query);
  }

  private servedBlobs(): NonNullable<BlobStore['served']> {
    if (!this.blobs.served) throw new FerryError('ROUTE_NOT_FOUND', `this server keeps blobs in ${this.blobs.kind}: its transfer URLs point there`);
    return this.blobs.served;
  }

  private async record(tenantId: string, assetId: string): Promise<AssetRecord> {
    const asset = await this.store.assets.getAsset(tenantId, assetId);
    if (!asset) throw notFound(assetId);
    if (!asset.pinned && asset.expiresAt <= this.clock.now()) throw new FerryError('ASSET_NOT_FOUND', `asset ${assetId} expired at ${new Date(asset.expiresAt).toISOString()}`);
    if (asset.status === 'PENDING' && !this.blobs.served) {
      // URLs that point elsewhere tell Ferry nothing of an upload's end: the store is asked.
      const stored = await this.blobs.stat(assetId);
      if (stored && !uploadMismatch(asset, stored)) return (await this.store.assets.markAssetReady(assetId, stored, this.clock.now())) ?? asset;
    }
    return asset;
  }

  private async withUrls(asset: AssetRecord, origin: string): Promise<AssetWithUrls> {
    const urlFor = this.clock.now() + LIMITS.transferUrlSeconds * 1000;
    const urlExpiresAt = asset.pinned ? urlFor : Math.min(asset.expiresAt, urlFor);
    if (asset.status === 'PENDING') {
      const maxBytes = asset.sizeBytes ?? LIMITS.maxAssetBytes;
      return { asset, uploadUrl: await this.blobs.uploadUrl(asset.id, { origin, expiresAt: urlExpiresAt, maxBytes, contentType: asset.contentType, sizeBytes: asset.sizeBytes, sha256: asset.sha256 }), downloadUrl: null, urlExpiresAt };
    }
    return { asset, uploadUrl: null, downloadUrl: await this.blobs.downloadUrl(asset.id, { origin, expiresAt: urlExpiresAt }), urlExpiresAt };
  }
}

const notFound = (assetId: string): FerryError => new FerryError('ASSET_NOT_FOUND', `no asset ${assetId}`);
