import { queryString } from './query-string.js';
import type { AssetInfo, CreateAssetRequest, Page } from './types.js';

/** How a FerryClient sends an API request (see FerryClient.request). */
type Send = <T>(method: string, path: string, body?: unknown) => Promise<{ data: T }>;

/**
 * Assets' records through the API (in Node and in a browser). The bytes move through the
 * pre-signed URLs the records carry: PUT to `uploadUrl`, GET from `downloadUrl`; in Node,
 * `uploadAsset` and `downloadAsset` (asset-files.ts) stream files both ways.
 */
export class AssetsClient {
  constructor(private readonly send: Send) {}

  async create(req: CreateAssetRequest): Promise<AssetInfo> {
    return (await this.send<AssetInfo>('POST', '/v1/assets', req)).data;
  }
  async get(assetId: string): Promise<AssetInfo> {
    return (await this.send<AssetInfo>('GET', `/v1/assets/${encodeURIComponent(assetId)}`)).data;
  }
  async list(filter: { status?: 'PENDING' | 'READY'; taskId?: string; limit?: number; cursor?: string } = {}): Promise<Page<AssetInfo>> {
    return (await this.send<Page<AssetInfo>>('GET', `/v1/assets${queryString(filter)}`)).data;
  }
  async delete(assetId: string): Promise<void> {
    await this.send('DELETE', `/v1/assets/${encodeURIComponent(assetId)}`);
  }
}
