import { triggerExists } from '../../core/errors.js';
import type { Page } from '../../core/types.js';
import type { TriggerRecord } from '../../core/triggers.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { encodeJson, toTrigger, triggerConfigJson } from '../rows.js';
import type { TriggerDefinition, TriggerFire, TriggerStore } from '../trigger-store.js';
import type { PgConnection, Row } from './connection.js';
import { isUniqueViolation } from './store-errors.js';
import { cmp, where } from './where.js';

const toFire = (r: Row): TriggerFire => ({ triggerId: r.trigger_id as string, eventKey: r.event_key as string, taskId: r.task_id as string, at: Number(r.at) });
const NAME_TAKEN = 'triggers_name_unique';

export class PgTriggerStore implements TriggerStore {
  constructor(private readonly conn: PgConnection) {}

  async createTrigger(t: TriggerRecord): Promise<void> {
    try {
      await this.conn.sql.run(
        `INSERT INTO triggers (id, tenant_id, name, function_id, workflow_id, version_id, kind, config, task, destinations, state, last_fired_at, last_error, fired, cursor, created_at, updated_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [t.id, t.tenantId, t.name, t.functionId, t.workflowId, t.versionId, t.kind, triggerConfigJson(t), JSON.stringify(t.task), encodeJson(t.destinations), t.state, t.lastFiredAt, t.lastError, t.fired, t.cursor, t.createdAt, t.updatedAt],
      );
    } catch (err) {
      throw isUniqueViolation(err, NAME_TAKEN) ? triggerExists(t.name) : err;
    }
  }

  async getTrigger(tenantId: string, triggerId: string): Promise<TriggerRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM triggers WHERE id = $1 AND tenant_id = $2', [triggerId, tenantId]);
    return row ? toTrigger(row) : null;
  }

  async triggerById(triggerId: string): Promise<TriggerRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM triggers WHERE id = $1', [triggerId]);
    return row ? toTrigger(row) : null;
  }

  async listTriggers(tenantId: string, page: PageRequest): Promise<Page<TriggerRecord>> {
    const after = decodeCursor<number>(page.cursor, 'number') ?? 0;
    const rows = await this.conn.sql.rows('SELECT * FROM triggers WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [tenantId, after, page.limit + 1]);
    return pageOf(rows, page.limit, toTrigger, 'seq');
  }

  async listRunnableTriggers(kinds: readonly TriggerRecord['kind'][]): Promise<TriggerRecord[]> {
    const rows = await this.conn.sql.rows("SELECT * FROM triggers WHERE state != 'PAUSED' AND kind = ANY($1::text[]) ORDER BY seq", [kinds]);
    return rows.map(toTrigger);
  }

  async updateTrigger(tenantId: string, triggerId: string, d: TriggerDefinition, now: number): Promise<TriggerRecord | null> {
    try {
      const row = await this.conn.sql.one(
        'UPDATE triggers SET name = $3, function_id = $4, workflow_id = $5, version_id = $6, config = $7, task = $8, destinations = $9, updated_at = $10 WHERE id = $1 AND tenant_id = $2 RETURNING *',
        [triggerId, tenantId, d.name, d.functionId, d.workflowId, d.versionId, triggerConfigJson(d), JSON.stringify(d.task), encodeJson(d.destinations), now],
      );
      return row ? toTrigger(row) : null;
    } catch (err) {
      throw isUniqueViolation(err, NAME_TAKEN) ? triggerExists(d.name) : err;
    }
  }

  async deleteTrigger(tenantId: string, triggerId: string): Promise<boolean> {
    return this.conn.tx(async (sql) => {
      const deleted = (await sql.run('DELETE FROM triggers WHERE id = $1 AND tenant_id = $2', [triggerId, tenantId])) > 0;
      if (deleted) await sql.run('DELETE FROM trigger_fires WHERE trigger_id = $1', [triggerId]);
      return deleted;
    });
  }

  async setTriggerPaused(tenantId: string, triggerId: string, paused: boolean, now: number): Promise<TriggerRecord | null> {
    // Resuming clears the error: the runner finds out afresh whether it can run.
    const row = await this.conn.sql.one(
      `WITH moved AS (
         UPDATE triggers SET state = $3, last_error = CASE WHEN $4 THEN last_error ELSE NULL END, updated_at = $5
         WHERE id = $1 AND tenant_id = $2 AND (state = 'PAUSED') != $4 RETURNING *)
       SELECT * FROM moved UNION ALL SELECT * FROM triggers WHERE id = $1 AND tenant_id = $2 AND NOT EXISTS (SELECT 1 FROM moved)`,
      [triggerId, tenantId, paused ? 'PAUSED' : 'ACTIVE', paused, now],
    );
    return row ? toTrigger(row) : null;
  }

  async setTriggerHealth(triggerId: string, state: 'ACTIVE' | 'ERROR', error: string | null): Promise<void> {
    await this.conn.sql.run("UPDATE triggers SET state = $2, last_error = $3 WHERE id = $1 AND state != 'PAUSED'", [triggerId, state, error]);
  }

  async recordFire(fire: TriggerFire, cursor?: string): Promise<void> {
    // One statement: the fire when it is new, the count and time only then, the cursor either way.
    await this.conn.sql.run(
      `WITH added AS (
         INSERT INTO trigger_fires (trigger_id, event_key, task_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (trigger_id, event_key) DO NOTHING RETURNING 1)
       UPDATE triggers SET fired = fired + (SELECT count(*) FROM added),
         last_fired_at = CASE WHEN EXISTS (SELECT 1 FROM added) THEN GREATEST(COALESCE(last_fired_at, 0), $4) ELSE last_fired_at END,
         cursor = COALESCE($5, cursor)
       WHERE id = $1`,
      [fire.triggerId, fire.eventKey, fire.taskId, fire.at, cursor ?? null],
    );
  }

  async setTriggerCursor(triggerId: string, cursor: string): Promise<void> {
    await this.conn.sql.run('UPDATE triggers SET cursor = $2 WHERE id = $1', [triggerId, cursor]);
  }

  async listFires(triggerId: string, page: PageRequest): Promise<Page<TriggerFire>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where([cmp('trigger_id', '=', triggerId), cmp('seq', '<', before)]);
    const rows = await this.conn.sql.rows(`SELECT * FROM trigger_fires ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toFire, 'seq');
  }
}
