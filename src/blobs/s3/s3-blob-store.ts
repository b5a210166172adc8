import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobInfo } from '../../core/assets.js';
import type { BlobStore, DownloadTerms, UploadTerms } from '../blob-store.js';

export interface S3BlobsConfig {
  bucket: string;
  /** Keys are `<prefix><assetId>`. */
  prefix: string;
  /** An S3-compatible service other than AWS (path-style addressing then). */
  endpoint?: string;
  region: string;
}

type Sdk = typeof import('@aws-sdk/client-s3');
type Presign = (typeof import('@aws-sdk/s3-request-presigner'))['getSignedUrl'];

/**
 * Blobs in an S3-compatible bucket, for fleets whose replicas and agents share no disk. The AWS
 * SDK is loaded only here, when configured; credentials come from its standard chain. Clients
 * move the bytes straight to and from the bucket through URLs the SDK pre-signs: an upload of a
 * declared size is signed for exactly that length and, when a checksum was declared, for that
 * SHA-256, so the service itself refuses other bytes. Ferry learns that an upload ended from the
 * bucket (`stat`): the object's length and its SHA-256 (the one the service kept, or, from a
 * service that keeps none, hashed once from the object).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;

  private constructor(
    private readonly sdk: Sdk,
    private readonly presign: Presign,
    private readonly client: S3Client,
    private readonly config: S3BlobsConfig,
  ) {}

  static async open(config: S3BlobsConfig): Promise<S3BlobStore> {
    const [sdk, { getSignedUrl }] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
    const client = new sdk.S3Client({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}) });
    return new S3BlobStore(sdk, getSignedUrl, client, config);
  }

  async uploadUrl(assetId: string, terms: UploadTerms): Promise<string> {
    const command = new this.sdk.PutObjectCommand({
      Bucket: this.config.bucket,
      Key: this.key(assetId),
      ContentType: terms.contentType,
      ...(terms.sizeBytes !== null ? { ContentLength: terms.sizeBytes } : {}),
      ...(terms.sha256 ? { ChecksumSHA256: Buffer.from(terms.sha256, 'hex').toString('base64') } : {}),
    });
    return this.presign(this.client, command, { expiresIn: secondsUntil(terms.expiresAt), signableHeaders: new Set(['content-type']) });
  }

  async downloadUrl(assetId: string, terms: DownloadTerms): Promise<string> {
    return this.presign(this.client, new this.sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: this.key(assetId) }), { expiresIn: secondsUntil(terms.expiresAt) });
  }

  async stat(assetId: string): Promise<BlobInfo | null> {
    let head;
    try {
      head = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.config.bucket, Key: this.key(assetId), ChecksumMode: 'ENABLED' }));
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
    const kept = head.ChecksumSHA256 && !head.ChecksumSHA256.includes('-') ? Buffer.from(head.ChecksumSHA256, 'base64').toString('hex') : null;
    if (kept) return { sizeBytes: Number(head.ContentLength ?? 0), sha256: kept };
    const object = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: this.key(assetId) }));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of object.Body as Readable) {
      size += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    return { sizeBytes: size, sha256: hash.digest('hex') };
  }

  async delete(assetId: string): Promise<void> {
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.key(assetId) }));
  }

  private key(assetId: string): string {
    return `${this.config.prefix}${assetId}`;
  }
}

/** S3 URLs live 1 s to 7 days. */
const secondsUntil = (at: number): number => Math.min(7 * 86_400, Math.max(1, Math.ceil((at - Date.now()) / 1000)));
