import { FerryError } from '../../core/errors.js';
import type { FunctionRecord, Page, VersionRecord } from '../../core/types.js';
import type { CatalogStore } from '../catalog-store.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toFunction, toVersion } from '../rows.js';
import type { Row, SqliteConnection } from './connection.js';
import { SERVING } from '../status-lists.js';

export class SqliteCatalogStore implements CatalogStore {
  constructor(private readonly conn: SqliteConnection) {}

  async createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.conn.immediate(() => {
      const taken = this.conn.sql('SELECT 1 FROM functions WHERE tenant_id = ? AND name = ?').get(fn.tenantId, fn.name);
      if (taken) throw new FerryError('FUNCTION_EXISTS', `a function named "${fn.name}" already exists`);
      this.conn.sql('INSERT INTO functions (id, tenant_id, name, description, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(fn.id, fn.tenantId, fn.name, fn.description, JSON.stringify(fn.tags), fn.createdAt);
      return this.insertVersion(firstVersion);
    });
  }

  private insertVersion(v: Omit<VersionRecord, 'number'>): VersionRecord {
    const number = ((this.conn.sql('SELECT max(number) FROM versions WHERE function_id = ?').pluck().get(v.functionId) as number | null) ?? 0) + 1;
    this.conn.sql('INSERT INTO versions (id, tenant_id, function_id, number, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(v.id, v.tenantId, v.functionId, number, JSON.stringify(v.spec), v.createdAt);
    return { ...v, number };
  }

  async getFunction(tenantId: string, idOrName: string): Promise<FunctionRecord | null> {
    const row = this.conn.sql('SELECT * FROM functions WHERE tenant_id = ? AND (id = ? OR name = ?)').get(tenantId, idOrName, idOrName) as Row | undefined;
    return row ? toFunction(row) : null;
  }

  async listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = this.conn.sql('SELECT * FROM functions WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?').all(tenantId, after, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toFunction, 'id');
  }

  async deleteFunction(tenantId: string, functionId: string): Promise<void> {
    await this.conn.immediate(() => {
      const serving = this.conn.sql(`SELECT 1 FROM deployments WHERE tenant_id = ? AND function_id = ? AND state IN ${SERVING}`).get(tenantId, functionId);
      if (serving) throw new FerryError('FUNCTION_DEPLOYED', 'the function has a deployment; undeploy its versions first');
      this.conn.sql('DELETE FROM functions WHERE tenant_id = ? AND id = ?').run(tenantId, functionId);
    });
  }

  async addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.conn.immediate(() => this.insertVersion(version));
  }

  async getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null> {
    const row = this.conn.sql('SELECT * FROM versions WHERE tenant_id = ? AND id = ?').get(tenantId, versionId) as Row | undefined;
    return row ? toVersion(row) : null;
  }

  async listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = this.conn.sql('SELECT * FROM versions WHERE tenant_id = ? AND function_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(tenantId, functionId, after, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toVersion, 'id');
  }

  async deleteVersion(tenantId: string, versionId: string): Promise<void> {
    await this.conn.immediate(() => {
      const serving = this.conn.sql(`SELECT 1 FROM deployments WHERE tenant_id = ? AND version_id = ? AND state IN ${SERVING}`).get(tenantId, versionId);
      if (serving) throw new FerryError('VERSION_DEPLOYED', 'the version is deployed; undeploy it first');
      this.conn.sql('DELETE FROM versions WHERE tenant_id = ? AND id = ?').run(tenantId, versionId);
    });
  }
}
