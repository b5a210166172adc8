import { triggerExists } from '../../core/errors.js';
import type { Page } from '../../core/types.js';
import type { TriggerRecord } from '../../core/triggers.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { encodeJson, toTrigger, triggerConfigJson } from '../rows.js';
import type { TriggerDefinition, TriggerFire, TriggerStore } from '../trigger-store.js';
import type { Row, SqliteConnection } from './connection.js';
import { cmp, placeholders, where } from './where.js';

const toFire = (r: Row): TriggerFire => ({ triggerId: r.trigger_id as string, eventKey: r.event_key as string, taskId: r.task_id as string, at: Number(r.at) });

export class SqliteTriggerStore implements TriggerStore {
  constructor(private readonly conn: SqliteConnection) {}

  async createTrigger(t: TriggerRecord): Promise<void> {
    await this.conn.immediate(() => {
      if (this.conn.sql('SELECT 1 FROM triggers WHERE tenant_id = ? AND name = ?').get(t.tenantId, t.name)) throw triggerExists(t.name);
      this.conn
        .sql(`INSERT INTO triggers (id, tenant_id, name, function_id, workflow_id, version_id, kind, config, task, destinations, state, last_fired_at, last_error, fired, cursor, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(t.id, t.tenantId, t.name, t.functionId, t.workflowId, t.versionId, t.kind, triggerConfigJson(t), JSON.stringify(t.task), encodeJson(t.destinations), t.state, t.lastFiredAt, t.lastError, t.fired, t.cursor, t.createdAt, t.updatedAt);
    });
  }

  async getTrigger(tenantId: string, triggerId: string): Promise<TriggerRecord | null> {
    const row = this.conn.sql('SELECT * FROM triggers WHERE id = ? AND tenant_id = ?').get(triggerId, tenantId) as Row | undefined;
    return row ? toTrigger(row) : null;
  }

  async triggerById(triggerId: string): Promise<TriggerRecord | null> {
    const row = this.conn.sql('SELECT * FROM triggers WHERE id = ?').get(triggerId) as Row | undefined;
    return row ? toTrigger(row) : null;
  }

  async listTriggers(tenantId: string, page: PageRequest): Promise<Page<TriggerRecord>> {
    const after = decodeCursor<number>(page.cursor, 'number') ?? 0;
    const rows = this.conn.sql('SELECT * FROM triggers WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(tenantId, after, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toTrigger, 'seq');
  }

  async listRunnableTriggers(kinds: readonly TriggerRecord['kind'][]): Promise<TriggerRecord[]> {
    if (kinds.length === 0) return [];
    const rows = this.conn.sql(`SELECT * FROM triggers WHERE state != 'PAUSED' AND kind IN (${placeholders(kinds.length)}) ORDER BY seq`).all(...kinds) as Row[];
    return rows.map(toTrigger);
  }

  async updateTrigger(tenantId: string, triggerId: string, d: TriggerDefinition, now: number): Promise<TriggerRecord | null> {
    return this.conn.immediate(() => {
      if (this.conn.sql('SELECT 1 FROM triggers WHERE tenant_id = ? AND name = ? AND id != ?').get(tenantId, d.name, triggerId)) throw triggerExists(d.name);
      this.conn
        .sql('UPDATE triggers SET name = ?, function_id = ?, workflow_id = ?, version_id = ?, config = ?, task = ?, destinations = ?, updated_at = ? WHERE id = ? AND tenant_id = ?')
        .run(d.name, d.functionId, d.workflowId, d.versionId, triggerConfigJson(d), JSON.stringify(d.task), encodeJson(d.destinations), now, triggerId, tenantId);
      const row = this.conn.sql('SELECT * FROM triggers WHERE id = ? AND tenant_id = ?').get(triggerId, tenantId) as Row | undefined;
      return row ? toTrigger(row) : null;
    });
  }

  async deleteTrigger(tenantId: string, triggerId: string): Promise<boolean> {
    return this.conn.immediate(() => {
      const deleted = this.conn.sql('DELETE FROM triggers WHERE id = ? AND tenant_id = ?').run(triggerId, tenantId).changes > 0;
      if (deleted) this.conn.sql('DELETE FROM trigger_fires WHERE trigger_id = ?').run(triggerId);
      return deleted;
    });
  }

  async setTriggerPaused(tenantId: string, triggerId: string, paused: boolean, now: number): Promise<TriggerRecord | null> {
    return this.conn.immediate(() => {
      // Resuming clears the error: the runner finds out afresh whether it can run.
      this.conn
        .sql(`UPDATE triggers SET state = ?, last_error = CASE WHEN ? THEN last_error ELSE NULL END, updated_at = ? WHERE id = ? AND tenant_id = ? AND (state = 'PAUSED') != ?`)
        .run(paused ? 'PAUSED' : 'ACTIVE', paused ? 1 : 0, now, triggerId, tenantId, paused ? 1 : 0);
      const row = this.conn.sql('SELECT * FROM triggers WHERE id = ? AND tenant_id = ?').get(triggerId, tenantId) as Row | undefined;
      return row ? toTrigger(row) : null;
    });
  }

  async setTriggerHealth(triggerId: string, state: 'ACTIVE' | 'ERROR', error: string | null): Promise<void> {
    await this.conn.immediate(() => {
      this.conn.sql("UPDATE triggers SET state = ?, last_error = ? WHERE id = ? AND state != 'PAUSED'").run(state, error, triggerId);
    });
  }

  async recordFire(fire: TriggerFire, cursor?: string): Promise<void> {
    await this.conn.immediate(() => {
      const added = this.conn.sql('INSERT OR IGNORE INTO trigger_fires (trigger_id, event_key, task_id, at) VALUES (?, ?, ?, ?)').run(fire.triggerId, fire.eventKey, fire.taskId, fire.at).changes > 0;
      if (added) this.conn.sql('UPDATE triggers SET fired = fired + 1, last_fired_at = MAX(COALESCE(last_fired_at, 0), ?) WHERE id = ?').run(fire.at, fire.triggerId);
      if (cursor !== undefined) this.conn.sql('UPDATE triggers SET cursor = ? WHERE id = ?').run(cursor, fire.triggerId);
    });
  }

  async setTriggerCursor(triggerId: string, cursor: string): Promise<void> {
    await this.conn.immediate(() => {
      this.conn.sql('UPDATE triggers SET cursor = ? WHERE id = ?').run(cursor, triggerId);
    });
  }

  async listFires(triggerId: string, page: PageRequest): Promise<Page<TriggerFire>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where(cmp('trigger_id', '=', triggerId), cmp('seq', '<', before));
    const rows = this.conn.sql(`SELECT * FROM trigger_fires ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toFire, 'seq');
  }
}
