import type { AssetRecord, BlobInfo } from '../../core/assets.js';
import type { Page } from '../../core/types.js';
import type { AssetDeletion, AssetFilter, AssetStore } from '../asset-store.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toAsset } from '../rows.js';
import { LEASED } from '../status-lists.js';
import type { PgConnection, Row } from './connection.js';
import { cmp, where } from './where.js';

/** A live task (queued or leased) that holds the asset. */
const HELD = `EXISTS (SELECT 1 FROM task_input_assets h JOIN tasks t ON t.id = h.task_id
  WHERE h.asset_id = assets.id AND (t.status = 'QUEUED' OR t.status IN ${LEASED}))`;

export class PgAssetStore implements AssetStore {
  constructor(private readonly conn: PgConnection) {}

  async createAsset(a: AssetRecord): Promise<void> {
    await this.conn.sql.run(
      `INSERT INTO assets (id, tenant_id, status, content_type, description, size_bytes, sha256, task_id, name, pinned, created_at, ready_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [a.id, a.tenantId, a.status, a.contentType, a.description, a.sizeBytes, a.sha256, a.taskId, a.name, a.pinned, a.createdAt, a.readyAt, a.expiresAt],
    );
  }

  async getAsset(tenantId: string, assetId: string): Promise<AssetRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM assets WHERE id = $1 AND tenant_id = $2', [assetId, tenantId]);
    return row ? toAsset(row) : null;
  }

  async assetById(assetId: string): Promise<AssetRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM assets WHERE id = $1', [assetId]);
    return row ? toAsset(row) : null;
  }

  async listAssets(tenantId: string, filter: AssetFilter, page: PageRequest): Promise<Page<AssetRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where([cmp('tenant_id', '=', tenantId), cmp('status', '=', filter.status), cmp('task_id', '=', filter.taskId), cmp('seq', '<', before)]);
    const rows = await this.conn.sql.rows(`SELECT * FROM assets ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toAsset, 'seq');
  }

  async markAssetReady(assetId: string, stored: BlobInfo, now: number): Promise<AssetRecord | null> {
    // One statement: the update when the asset is PENDING, and the row as it is either way.
    const row = await this.conn.sql.one(
      `WITH moved AS (UPDATE assets SET status = 'READY', size_bytes = $2, sha256 = $3, ready_at = $4 WHERE id = $1 AND status = 'PENDING' RETURNING *)
       SELECT * FROM moved UNION ALL SELECT * FROM assets WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM moved)`,
      [assetId, stored.sizeBytes, stored.sha256, now],
    );
    return row ? toAsset(row) : null;
  }

  async deleteAsset(tenantId: string, assetId: string): Promise<AssetDeletion> {
    return this.conn.tx(async (sql): Promise<AssetDeletion> => {
      // The row lock keeps a submit that names the asset from slipping in between the check and the delete.
      const row = await sql.one<{ held: boolean }>(`SELECT ${HELD} AS held FROM assets WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [assetId, tenantId]);
      if (!row) return 'absent';
      if (row.held) return 'in-use';
      await sql.run('DELETE FROM assets WHERE id = $1', [assetId]);
      await sql.run('DELETE FROM task_input_assets WHERE asset_id = $1', [assetId]);
      return 'deleted';
    });
  }

  async listReadyAssets(tenantId: string, from: { at: number; id: string }, limit: number): Promise<AssetRecord[]> {
    const rows = await this.conn.sql.rows<Row>(
      "SELECT * FROM assets WHERE tenant_id = $1 AND status = 'READY' AND (ready_at, id) > ($2, $3) ORDER BY ready_at, id LIMIT $4",
      [tenantId, from.at, from.id, limit],
    );
    return rows.map(toAsset);
  }

  async listExpiredAssets(now: number, limit: number): Promise<AssetRecord[]> {
    const rows = await this.conn.sql.rows<Row>(`SELECT * FROM assets WHERE NOT pinned AND expires_at <= $1 AND NOT ${HELD} ORDER BY expires_at LIMIT $2`, [now, limit]);
    return rows.map(toAsset);
  }

  async signingKey(make: () => Buffer): Promise<Buffer> {
    await this.conn.sql.run("INSERT INTO store_secrets (name, value) VALUES ('transfer-urls', $1) ON CONFLICT (name) DO NOTHING", [make()]);
    const row = await this.conn.sql.one<{ value: Buffer }>("SELECT value FROM store_secrets WHERE name = 'transfer-urls'");
    return row!.value;
  }
}
