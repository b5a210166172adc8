import type { AssetRecord, AssetStatus, BlobInfo } from '../core/assets.js';
import type { Page } from '../core/types.js';
import type { PageRequest } from './paging.js';

export interface AssetFilter {
  status?: AssetStatus;
  /** Only the output assets of this task. */
  taskId?: string;
}

/** Why an asset was not deleted. */
export type AssetDeletion = 'deleted' | 'absent' | 'in-use';

/**
 * Assets' records (their bytes live in the blob store), and the key that signs transfer URLs.
 * A task that names input assets holds them: an asset is not deleted while a queued or running
 * task holds it.
 */
export interface AssetStore {
  createAsset(asset: AssetRecord): Promise<void>;
  getAsset(tenantId: string, assetId: string): Promise<AssetRecord | null>;
  /** Any tenant's asset: only for a transfer a signed URL already authorized. */
  assetById(assetId: string): Promise<AssetRecord | null>;
  /** Newest first. */
  listAssets(tenantId: string, filter: AssetFilter, page: PageRequest): Promise<Page<AssetRecord>>;
  /**
   * Records that the bytes of a PENDING asset are stored, as measured: it becomes READY with that
   * size and checksum. Returns the asset as it is after the call, null when there is none; one
   * already READY is returned unchanged.
   */
  markAssetReady(assetId: string, stored: BlobInfo, now: number): Promise<AssetRecord | null>;
  /** Deletes the record, unless a queued or running task holds the asset. */
  deleteAsset(tenantId: string, assetId: string): Promise<AssetDeletion>;
  /**
   * The tenant's READY assets that became READY at or after `from.at` (past `from.id` among those
   * of that very millisecond), in the order they became READY: what asset triggers read.
   */
  listReadyAssets(tenantId: string, from: { at: number; id: string }, limit: number): Promise<AssetRecord[]>;
  /** Assets past their expiry, not pinned and held by no live task, oldest expiry first. */
  listExpiredAssets(now: number, limit: number): Promise<AssetRecord[]>;
  /**
   * The secret that signs transfer URLs: made by `make` on the first call against an empty store
   * and the same ever after, for every replica (a URL one signs, another accepts).
   */
  signingKey(make: () => Buffer): Promise<Buffer>;
}
