/**
 * An asset: a stored file (an input over the inline limit, model weights, a task's output file),
 * moved in and out through pre-signed URLs. It is PENDING from its creation until an upload has
 * completed with the declared size and checksum, then READY; it never goes back.
 */
export const ASSET_STATUSES = ['PENDING', 'READY'] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

export interface AssetRecord {
  id: string;
  tenantId: string;
  status: AssetStatus;
  contentType: string;
  description: string;
  /** The size in bytes: as declared at creation while PENDING (null if none was), as stored once READY. */
  sizeBytes: number | null;
  /** Hex SHA-256 of the bytes: as declared while PENDING (null if none was), as stored once READY. */
  sha256: string | null;
  /** The task that wrote it (an output asset), with the file's name in its output directory. */
  taskId: string | null;
  name: string | null;
  /** Kept past its expiry only when pinned. */
  pinned: boolean;
  createdAt: number;
  readyAt: number | null;
  expiresAt: number;
}

/** A READY input asset as an agent fetches it: what to check the bytes against, and where they are. */
export interface AssetTransfer {
  id: string;
  sizeBytes: number;
  sha256: string;
  /** Pre-signed; relative (a path on the control plane) for the blobs Ferry serves itself. */
  url: string;
}

/** An output asset as its task lists it. */
export interface OutputAssetRef {
  id: string;
  /** Its path in the attempt's output directory; `response` for a server-mode response kept as an asset, `output` for a job's output file. */
  name: string;
  sizeBytes: number;
  contentType: string;
}

/** What an agent declares of an output file before uploading it. */
export interface OutputFileTerms {
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

/** An asset as asked for (POST /v1/assets), or as an agent declares an output file. */
export interface CreateAssetRequest {
  contentType: string;
  description?: string;
  /** Declared size: the upload must carry exactly this many bytes. */
  sizeBytes?: number;
  /** Declared hex SHA-256: the upload's bytes must hash to it. */
  sha256?: string;
  /** Kept past its expiry. */
  pinned?: boolean;
  /** Kept this long after its creation (default LIMITS.defaultAssetTtlSeconds). */
  ttlSeconds?: number;
}

/** A new asset's record, PENDING; `output` names the task and file it is an output of. */
export function newAsset(id: string, tenantId: string, req: CreateAssetRequest, now: number, defaultTtlSeconds: number, output?: { taskId: string; name: string }): AssetRecord {
  return {
    id,
    tenantId,
    status: 'PENDING',
    contentType: req.contentType,
    description: req.description ?? '',
    sizeBytes: req.sizeBytes ?? null,
    sha256: req.sha256?.toLowerCase() ?? null,
    taskId: output?.taskId ?? null,
    name: output?.name ?? null,
    pinned: req.pinned ?? false,
    createdAt: now,
    readyAt: null,
    expiresAt: now + (req.ttlSeconds ?? defaultTtlSeconds) * 1000,
  };
}

/** What the bytes that arrived are: the upload's own count and checksum. */
export interface BlobInfo {
  sizeBytes: number;
  sha256: string;
}

/** Why stored bytes do not make the asset READY, or null when they do. */
export function uploadMismatch(asset: Pick<AssetRecord, 'sizeBytes' | 'sha256'>, got: BlobInfo): string | null {
  if (asset.sizeBytes !== null && got.sizeBytes !== asset.sizeBytes) return `the upload carried ${got.sizeBytes} bytes where ${asset.sizeBytes} were declared`;
  if (asset.sha256 !== null && got.sha256 !== asset.sha256) return `the upload's sha256 is ${got.sha256}, not the declared ${asset.sha256}`;
  return null;
}

/** An asset id as `newId` makes it (`asset_` and base32); anything else names no asset. */
export const ASSET_ID = /^asset_[0-9a-z]{1,64}$/;

/** A plain MIME type (`type/subtype`, parameters allowed), as a Content-Type header takes it. */
export const CONTENT_TYPE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\\s*;.{0,200})?$';
