import type { NodeState, StoredInstanceState } from '../../core/states.js';
import { TASK_ERRORS } from '../../core/task-errors.js';
import type { InstanceRecord, NodeRecord } from '../../core/types.js';
import type { FleetStore, InstanceFilter } from '../fleet-store.js';
import { toInstance, toNode, toTask } from '../rows.js';
import type { ReclaimedTask } from '../task-queue.js';
import type { PgConnection } from './connection.js';
import { reclaimTasks } from './task-transitions.js';
import { cmp, isIn, where } from './where.js';
import { LEASED, LIVE_INSTANCES } from '../status-lists.js';

export class PgFleetStore implements FleetStore {
  constructor(private readonly conn: PgConnection) {}

  async upsertNode(n: NodeRecord): Promise<void> {
    await this.conn.sql.run(
      `INSERT INTO nodes (id, name, gpus, state, last_seen_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, gpus = excluded.gpus, state = excluded.state, last_seen_at = excluded.last_seen_at`,
      [n.id, n.name, JSON.stringify(n.gpus), n.state, n.lastSeenAt, n.createdAt],
    );
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM nodes WHERE id = $1', [id]);
    return row ? toNode(row) : null;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.conn.sql.rows('SELECT * FROM nodes ORDER BY created_at, id')).map(toNode);
  }

  async touchNode(id: string): Promise<NodeState | null> {
    // One round trip per heartbeat: the update only moves last_seen_at, so the state the outer
    // SELECT reads (from before the update) is the state after it.
    const row = await this.conn.sql.one<{ state: NodeState }>(
      `WITH seen AS (UPDATE nodes SET last_seen_at = $2 WHERE id = $1 AND state = 'READY')
       SELECT state FROM nodes WHERE id = $1`,
      [id, this.conn.clock.now()],
    );
    return row?.state ?? null;
  }

  async markLostNodes(seenBefore: number, reason: string): Promise<{ nodes: NodeRecord[]; instances: InstanceRecord[] }> {
    return this.conn.tx(async (sql) => {
      const nodes = (await sql.rows("UPDATE nodes SET state = 'LOST' WHERE state = 'READY' AND last_seen_at < $1 RETURNING *", [seenBefore])).map(toNode);
      if (nodes.length === 0) return { nodes, instances: [] };
      nodes.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      const instances = await sql.rows(
        `UPDATE instances SET state = 'FAILED', reason = $1, ended_at = $2 WHERE node_id = ANY($3) AND state IN ${LIVE_INSTANCES} RETURNING *`,
        [reason, this.conn.clock.now(), nodes.map((n) => n.id)],
      );
      return { nodes, instances: instances.map(toInstance) };
    });
  }

  async createInstance(i: InstanceRecord): Promise<void> {
    await this.conn.sql.run(
      `INSERT INTO instances (id, tenant_id, function_id, version_id, node_id, state, gpus, reason, created_at, ready_at, ended_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [i.id, i.tenantId, i.functionId, i.versionId, i.nodeId, i.state, JSON.stringify(i.gpus), i.reason, i.createdAt, i.readyAt, i.endedAt],
    );
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM instances WHERE id = $1', [id]);
    return row ? toInstance(row) : null;
  }

  async listInstances(filter: InstanceFilter): Promise<InstanceRecord[]> {
    const w = where([
      cmp('tenant_id', '=', filter.tenantId),
      cmp('function_id', '=', filter.functionId),
      cmp('node_id', '=', filter.nodeId),
      cmp('version_id', '=', filter.versionId),
      isIn('state', filter.states),
    ]);
    return (await this.conn.sql.rows(`SELECT * FROM instances ${w.sql} ORDER BY created_at, id`, w.args)).map(toInstance);
  }

  async moveInstance(id: string, from: StoredInstanceState[], to: StoredInstanceState, reason: string | null): Promise<InstanceRecord | null> {
    const row = await this.conn.sql.one(
      `UPDATE instances SET state = $1, reason = COALESCE($2, reason),
         ready_at = CASE WHEN $1 = 'IDLE' THEN $3 ELSE ready_at END,
         ended_at = CASE WHEN $1 IN ('STOPPED', 'FAILED') THEN $3 ELSE ended_at END
       WHERE id = $4 AND state = ANY($5) RETURNING *`,
      [to, reason, this.conn.clock.now(), id, from],
    );
    return row ? toInstance(row) : null;
  }

  async countLeasedTasks(instanceIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(instanceIds.map((id) => [id, 0]));
    if (instanceIds.length === 0) return counts;
    const rows = await this.conn.sql.rows<{ instance_id: string; n: number }>(
      `SELECT instance_id, count(*) AS n FROM tasks WHERE status IN ${LEASED} AND instance_id = ANY($1) GROUP BY instance_id`,
      [instanceIds],
    );
    for (const r of rows) counts.set(r.instance_id, r.n);
    return counts;
  }

  async failNodeInstances(nodeId: string, reason: string): Promise<{ instances: InstanceRecord[]; tasks: ReclaimedTask[] }> {
    return this.conn.tx(async (sql) => {
      const now = this.conn.clock.now();
      const instances = await sql.rows(
        `UPDATE instances SET state = 'FAILED', reason = $1, ended_at = $2 WHERE node_id = $3 AND state IN ${LIVE_INSTANCES} RETURNING *`,
        [reason, now, nodeId],
      );
      const leased = await sql.rows(`SELECT * FROM tasks WHERE node_id = $1 AND status IN ${LEASED} ORDER BY seq FOR UPDATE`, [nodeId]);
      const tasks = await reclaimTasks(sql, leased.map(toTask), TASK_ERRORS.nodeLost(reason), now);
      return { instances: instances.map(toInstance), tasks };
    });
  }
}
