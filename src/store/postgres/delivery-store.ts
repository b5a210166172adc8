import type { DeliveryAttempt, DeliveryRecord } from '../../core/destinations.js';
import type { DeliveryStore, DeliveryUpdate } from '../delivery-store.js';
import { toDelivery, toDeliveryAttempt } from '../rows.js';
import type { PgConnection, Row } from './connection.js';

export class PgDeliveryStore implements DeliveryStore {
  constructor(private readonly conn: PgConnection) {}

  async addDeliveries(deliveries: DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    const cols = (f: (d: DeliveryRecord) => unknown) => deliveries.map(f);
    // One statement for the batch: the feed hands outcomes over in batches.
    await this.conn.sql.run(
      `INSERT INTO deliveries (id, tenant_id, task_id, event, kind, destination, payload, depth, status, attempts, next_attempt_at, deadline, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::int[], $11::bigint[], $12::bigint[], $13::bigint[])
       ON CONFLICT (id) DO NOTHING`,
      [
        cols((d) => d.id),
        cols((d) => d.tenantId),
        cols((d) => d.taskId),
        cols((d) => d.event),
        cols((d) => d.kind),
        cols((d) => JSON.stringify(d.destination)),
        cols((d) => d.payload),
        cols((d) => d.depth),
        cols((d) => d.status),
        cols((d) => d.attempts),
        cols((d) => d.nextAttemptAt),
        cols((d) => d.deadline),
        cols((d) => d.createdAt),
      ],
    );
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.conn.sql.rows("SELECT * FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2", [now, limit]);
    return rows.map(toDelivery);
  }

  async nextDeliveryAt(): Promise<number | null> {
    const row = await this.conn.sql.one<{ at: string | null }>("SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'PENDING'");
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  async recordDeliveryAttempt(deliveryId: string, a: DeliveryAttempt, u: DeliveryUpdate): Promise<boolean> {
    // One statement: the update while PENDING, and the attempt only when it happened.
    const row = await this.conn.sql.one(
      `WITH moved AS (
         UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, last_status_code = $5,
           result_task_id = COALESCE($6, result_task_id), result_execution_id = COALESCE($10, result_execution_id), ended_at = $7
         WHERE id = $1 AND status = 'PENDING' RETURNING id)
       INSERT INTO delivery_attempts (delivery_id, at, status_code, error, duration_ms) SELECT id, $8, $5, $4, $9 FROM moved RETURNING seq`,
      [deliveryId, u.status, u.nextAttemptAt, a.error, a.statusCode, u.resultTaskId ?? null, u.status === 'PENDING' ? null : a.at + a.durationMs, a.at, a.durationMs, u.resultExecutionId ?? null],
    );
    return row !== null;
  }

  async listDeliveries(tenantId: string, taskId: string): Promise<{ delivery: DeliveryRecord; attempts: DeliveryAttempt[] }[]> {
    const rows = await this.conn.sql.rows('SELECT * FROM deliveries WHERE task_id = $1 AND tenant_id = $2 ORDER BY seq', [taskId, tenantId]);
    const attempts = await this.conn.sql.rows<Row>('SELECT * FROM delivery_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY seq', [rows.map((r) => r.id)]);
    return rows.map((r) => ({ delivery: toDelivery(r), attempts: attempts.filter((a) => a.delivery_id === r.id).map(toDeliveryAttempt) }));
  }

  async chainDepth(taskId: string): Promise<number> {
    const row = await this.conn.sql.one<{ depth: number }>(
      `SELECT depth FROM deliveries WHERE result_task_id = $1
        UNION ALL SELECT d.depth FROM execution_tasks t JOIN deliveries d ON d.result_execution_id = t.execution_id WHERE t.task_id = $1`,
      [taskId],
    );
    return row === null ? 0 : row.depth + 1;
  }
}
