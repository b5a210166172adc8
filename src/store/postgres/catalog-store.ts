import { FerryError } from '../../core/errors.js';
import type { FunctionRecord, Page, VersionRecord } from '../../core/types.js';
import type { CatalogStore } from '../catalog-store.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { toFunction, toVersion } from '../rows.js';
import type { PgConnection, Sql } from './connection.js';
import { isUniqueViolation } from './store-errors.js';
import { SERVING } from '../status-lists.js';

export class PgCatalogStore implements CatalogStore {
  constructor(private readonly conn: PgConnection) {}

  async createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    const exists = (): FerryError => new FerryError('FUNCTION_EXISTS', `a function named "${fn.name}" already exists`);
    try {
      return await this.conn.tx(async (sql) => {
        if (await sql.one('SELECT 1 FROM functions WHERE tenant_id = $1 AND name = $2', [fn.tenantId, fn.name])) throw exists();
        await sql.run(
          'INSERT INTO functions (id, tenant_id, name, description, tags, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [fn.id, fn.tenantId, fn.name, fn.description, JSON.stringify(fn.tags), fn.createdAt],
        );
        return insertVersion(sql, firstVersion);
      });
    } catch (err) {
      // Two creates of one name at once both pass the check; the unique constraint stops the second.
      throw isUniqueViolation(err, 'functions_name_unique') ? exists() : err;
    }
  }

  async getFunction(tenantId: string, idOrName: string): Promise<FunctionRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM functions WHERE tenant_id = $1 AND (id = $2 OR name = $2)', [tenantId, idOrName]);
    return row ? toFunction(row) : null;
  }

  async listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = await this.conn.sql.rows('SELECT * FROM functions WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3', [tenantId, after, page.limit + 1]);
    return pageOf(rows, page.limit, toFunction, 'id');
  }

  async deleteFunction(tenantId: string, functionId: string): Promise<void> {
    await this.conn.tx(async (sql) => {
      const serving = await sql.one(`SELECT 1 FROM deployments WHERE tenant_id = $1 AND function_id = $2 AND state IN ${SERVING}`, [tenantId, functionId]);
      if (serving) throw new FerryError('FUNCTION_DEPLOYED', 'the function has a deployment; undeploy its versions first');
      await sql.run('DELETE FROM functions WHERE tenant_id = $1 AND id = $2', [tenantId, functionId]);
    });
  }

  async addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.conn.tx((sql) => insertVersion(sql, version));
  }

  async getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM versions WHERE tenant_id = $1 AND id = $2', [tenantId, versionId]);
    return row ? toVersion(row) : null;
  }

  async listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = await this.conn.sql.rows('SELECT * FROM versions WHERE tenant_id = $1 AND function_id = $2 AND id > $3 ORDER BY id LIMIT $4', [tenantId, functionId, after, page.limit + 1]);
    return pageOf(rows, page.limit, toVersion, 'id');
  }

  async deleteVersion(tenantId: string, versionId: string): Promise<void> {
    await this.conn.tx(async (sql) => {
      const serving = await sql.one(`SELECT 1 FROM deployments WHERE tenant_id = $1 AND version_id = $2 AND state IN ${SERVING}`, [tenantId, versionId]);
      if (serving) throw new FerryError('VERSION_DEPLOYED', 'the version is deployed; undeploy it first');
      await sql.run('DELETE FROM versions WHERE tenant_id = $1 AND id = $2', [tenantId, versionId]);
    });
  }
}

/** Adds a version numbered after the function's last; inside a transaction. */
async function insertVersion(sql: Sql, v: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
  // Locking the function row serialises numbering: two versions added at once get 2 and 3, not 2 twice.
  await sql.run('SELECT 1 FROM functions WHERE id = $1 FOR UPDATE', [v.functionId]);
  const last = await sql.one<{ n: number | null }>('SELECT max(number) AS n FROM versions WHERE function_id = $1', [v.functionId]);
  const number = (last?.n ?? 0) + 1;
  await sql.run(
    'INSERT INTO versions (id, tenant_id, function_id, number, spec, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [v.id, v.tenantId, v.functionId, number, JSON.stringify(v.spec), v.createdAt],
  );
  return { ...v, number };
}
