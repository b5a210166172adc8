import type { DeliveryAttempt, DeliveryRecord } from '../../core/destinations.js';
import type { DeliveryStore, DeliveryUpdate } from '../delivery-store.js';
import { toDelivery, toDeliveryAttempt } from '../rows.js';
import type { Row, SqliteConnection } from './connection.js';

export class SqliteDeliveryStore implements DeliveryStore {
  constructor(private readonly conn: SqliteConnection) {}

  async addDeliveries(deliveries: DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.conn.immediate(() => {
      const insert = this.conn.sql(`INSERT OR IGNORE INTO deliveries (id, tenant_id, task_id, event, kind, destination, payload, depth, status, attempts, next_attempt_at, deadline,
        last_error, last_status_code, result_task_id, result_execution_id, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const d of deliveries) {
        insert.run(d.id, d.tenantId, d.taskId, d.event, d.kind, JSON.stringify(d.destination), d.payload, d.depth, d.status, d.attempts, d.nextAttemptAt, d.deadline, d.lastError, d.lastStatusCode, d.resultTaskId, d.resultExecutionId, d.createdAt, d.endedAt);
      }
    });
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    const rows = this.conn.sql("SELECT * FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?").all(now, limit) as Row[];
    return rows.map(toDelivery);
  }

  async nextDeliveryAt(): Promise<number | null> {
    const at = this.conn.sql("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'PENDING'").pluck().get() as number | null;
    return at ?? null;
  }

  async recordDeliveryAttempt(deliveryId: string, a: DeliveryAttempt, u: DeliveryUpdate): Promise<boolean> {
    return this.conn.immediate(() => {
      const ended = u.status === 'PENDING' ? null : a.at + a.durationMs;
      const changed = this.conn
        .sql(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, last_status_code = ?,
          result_task_id = COALESCE(?, result_task_id), result_execution_id = COALESCE(?, result_execution_id), ended_at = ? WHERE id = ? AND status = 'PENDING'`)
        .run(u.status, u.nextAttemptAt, a.error, a.statusCode, u.resultTaskId ?? null, u.resultExecutionId ?? null, ended, deliveryId).changes;
      if (changed === 0) return false;
      this.conn.sql('INSERT INTO delivery_attempts (delivery_id, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?)').run(deliveryId, a.at, a.statusCode, a.error, a.durationMs);
      return true;
    });
  }

  async listDeliveries(tenantId: string, taskId: string): Promise<{ delivery: DeliveryRecord; attempts: DeliveryAttempt[] }[]> {
    const rows = this.conn.sql('SELECT * FROM deliveries WHERE task_id = ? AND tenant_id = ? ORDER BY seq').all(taskId, tenantId) as Row[];
    const attempts = this.conn.sql('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY seq');
    return rows.map((r) => ({ delivery: toDelivery(r), attempts: (attempts.all(r.id) as Row[]).map(toDeliveryAttempt) }));
  }

  async chainDepth(taskId: string): Promise<number> {
    const depth = this.conn
      .sql(`SELECT depth FROM deliveries WHERE result_task_id = ?
        UNION ALL SELECT d.depth FROM execution_tasks t JOIN deliveries d ON d.result_execution_id = t.execution_id WHERE t.task_id = ?`)
      .pluck()
      .get(taskId, taskId) as number | undefined;
    return depth === undefined ? 0 : depth + 1;
  }
}
