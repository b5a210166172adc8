import type { AssetRecord, BlobInfo } from '../../core/assets.js';
import type { Page } from '../../core/types.js';
import type { AssetDeletion, AssetFilter, AssetStore } from '../asset-store.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toAsset } from '../rows.js';
import { LEASED } from '../status-lists.js';
import type { Row, SqliteConnection } from './connection.js';
import { cmp, where } from './where.js';

/** A live task (queued or leased) that holds the asset. */
const HELD = `EXISTS (SELECT 1 FROM task_input_assets h JOIN tasks t ON t.id = h.task_id
  WHERE h.asset_id = assets.id AND (t.status = 'QUEUED' OR t.status IN ${LEASED}))`;

export class SqliteAssetStore implements AssetStore {
  constructor(private readonly conn: SqliteConnection) {}

  async createAsset(a: AssetRecord): Promise<void> {
    this.conn
      .sql(`INSERT INTO assets (id, tenant_id, status, content_type, description, size_bytes, sha256, task_id, name, pinned, created_at, ready_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(a.id, a.tenantId, a.status, a.contentType, a.description, a.sizeBytes, a.sha256, a.taskId, a.name, a.pinned ? 1 : 0, a.createdAt, a.readyAt, a.expiresAt);
  }

  async getAsset(tenantId: string, assetId: string): Promise<AssetRecord | null> {
    const row = this.conn.sql('SELECT * FROM assets WHERE id = ? AND tenant_id = ?').get(assetId, tenantId) as Row | undefined;
    return row ? toAsset(row) : null;
  }

  async assetById(assetId: string): Promise<AssetRecord | null> {
    const row = this.conn.sql('SELECT * FROM assets WHERE id = ?').get(assetId) as Row | undefined;
    return row ? toAsset(row) : null;
  }

  async listAssets(tenantId: string, filter: AssetFilter, page: PageRequest): Promise<Page<AssetRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where(cmp('tenant_id', '=', tenantId), cmp('status', '=', filter.status), cmp('task_id', '=', filter.taskId), cmp('seq', '<', before));
    const rows = this.conn.sql(`SELECT * FROM assets ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toAsset, 'seq');
  }

  async markAssetReady(assetId: string, stored: BlobInfo, now: number): Promise<AssetRecord | null> {
    return this.conn.immediate(() => {
      this.conn
        .sql("UPDATE assets SET status = 'READY', size_bytes = ?, sha256 = ?, ready_at = ? WHERE id = ? AND status = 'PENDING'")
        .run(stored.sizeBytes, stored.sha256, now, assetId);
      const row = this.conn.sql('SELECT * FROM assets WHERE id = ?').get(assetId) as Row | undefined;
      return row ? toAsset(row) : null;
    });
  }

  async deleteAsset(tenantId: string, assetId: string): Promise<AssetDeletion> {
    return this.conn.immediate((): AssetDeletion => {
      const row = this.conn.sql(`SELECT ${HELD} AS held FROM assets WHERE id = ? AND tenant_id = ?`).get(assetId, tenantId) as { held: number } | undefined;
      if (!row) return 'absent';
      if (row.held) return 'in-use';
      this.conn.sql('DELETE FROM assets WHERE id = ?').run(assetId);
      this.conn.sql('DELETE FROM task_input_assets WHERE asset_id = ?').run(assetId);
      return 'deleted';
    });
  }

  async listReadyAssets(tenantId: string, from: { at: number; id: string }, limit: number): Promise<AssetRecord[]> {
    const rows = this.conn
      .sql("SELECT * FROM assets WHERE tenant_id = ? AND status = 'READY' AND (ready_at > ? OR (ready_at = ? AND id > ?)) ORDER BY ready_at, id LIMIT ?")
      .all(tenantId, from.at, from.at, from.id, limit) as Row[];
    return rows.map(toAsset);
  }

  async listExpiredAssets(now: number, limit: number): Promise<AssetRecord[]> {
    const rows = this.conn.sql(`SELECT * FROM assets WHERE pinned = 0 AND expires_at <= ? AND NOT ${HELD} ORDER BY expires_at LIMIT ?`).all(now, limit) as Row[];
    return rows.map(toAsset);
  }

  async signingKey(make: () => Buffer): Promise<Buffer> {
    return this.conn.immediate(() => {
      this.conn.sql("INSERT OR IGNORE INTO store_secrets (name, value) VALUES ('transfer-urls', ?)").run(make());
      return this.conn.sql("SELECT value FROM store_secrets WHERE name = 'transfer-urls'").pluck().get() as Buffer;
    });
  }
}
