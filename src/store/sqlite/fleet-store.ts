import type { NodeState, StoredInstanceState } from '../../core/states.js';
import { TASK_ERRORS } from '../../core/task-errors.js';
import type { InstanceRecord, NodeRecord } from '../../core/types.js';
import type { FleetStore, InstanceFilter } from '../fleet-store.js';
import { toInstance, toNode, toTask } from '../rows.js';
import type { ReclaimedTask } from '../task-queue.js';
import type { Row, SqliteConnection } from './connection.js';
import { reclaimTask } from './task-transitions.js';
import { cmp, isIn, placeholders, where } from './where.js';
import { LEASED, LIVE_INSTANCES } from '../status-lists.js';

export class SqliteFleetStore implements FleetStore {
  constructor(private readonly conn: SqliteConnection) {}

  async upsertNode(n: NodeRecord): Promise<void> {
    this.conn.sql(
        `INSERT INTO nodes (id, name, gpus, state, last_seen_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, gpus = excluded.gpus, state = excluded.state, last_seen_at = excluded.last_seen_at`,
      )
      .run(n.id, n.name, JSON.stringify(n.gpus), n.state, n.lastSeenAt, n.createdAt);
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const row = this.conn.sql('SELECT * FROM nodes WHERE id = ?').get(id) as Row | undefined;
    return row ? toNode(row) : null;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (this.conn.sql('SELECT * FROM nodes ORDER BY created_at, id').all() as Row[]).map(toNode);
  }

  async touchNode(id: string): Promise<NodeState | null> {
    return this.conn.immediate(() => {
      this.conn.sql("UPDATE nodes SET last_seen_at = ? WHERE id = ? AND state = 'READY'").run(this.conn.clock.now(), id);
      return (this.conn.sql('SELECT state FROM nodes WHERE id = ?').pluck().get(id) as NodeState | undefined) ?? null;
    });
  }

  async markLostNodes(seenBefore: number, reason: string): Promise<{ nodes: NodeRecord[]; instances: InstanceRecord[] }> {
    return this.conn.immediate(() => {
      const nodes = (this.conn.sql("UPDATE nodes SET state = 'LOST' WHERE state = 'READY' AND last_seen_at < ? RETURNING *").all(seenBefore) as Row[]).map(toNode);
      const failInstances = this.conn.sql(`UPDATE instances SET state = 'FAILED', reason = ?, ended_at = ? WHERE node_id = ? AND state IN ${LIVE_INSTANCES} RETURNING *`);
      const instances = nodes.flatMap((n) => (failInstances.all(reason, this.conn.clock.now(), n.id) as Row[]).map(toInstance));
      return { nodes, instances };
    });
  }

  async createInstance(i: InstanceRecord): Promise<void> {
    this.conn.sql(
        `INSERT INTO instances (id, tenant_id, function_id, version_id, node_id, state, gpus, reason, created_at, ready_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(i.id, i.tenantId, i.functionId, i.versionId, i.nodeId, i.state, JSON.stringify(i.gpus), i.reason, i.createdAt, i.readyAt, i.endedAt);
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const row = this.conn.sql('SELECT * FROM instances WHERE id = ?').get(id) as Row | undefined;
    return row ? toInstance(row) : null;
  }

  async listInstances(filter: InstanceFilter): Promise<InstanceRecord[]> {
    const w = where(cmp('tenant_id', '=', filter.tenantId), cmp('function_id', '=', filter.functionId), cmp('node_id', '=', filter.nodeId), cmp('version_id', '=', filter.versionId), isIn('state', filter.states));
    return (this.conn.sql(`SELECT * FROM instances ${w.sql} ORDER BY created_at, id`).all(...w.args) as Row[]).map(toInstance);
  }

  async moveInstance(id: string, from: StoredInstanceState[], to: StoredInstanceState, reason: string | null): Promise<InstanceRecord | null> {
    const now = this.conn.clock.now();
    const row = this.conn.sql(
        `UPDATE instances SET state = ?, reason = COALESCE(?, reason),
           ready_at = CASE WHEN ? = 'IDLE' THEN ? ELSE ready_at END,
           ended_at = CASE WHEN ? IN ('STOPPED', 'FAILED') THEN ? ELSE ended_at END
         WHERE id = ? AND state IN (${placeholders(from.length)}) RETURNING *`,
      )
      .get(to, reason, to, now, to, now, id, ...from) as Row | undefined;
    return row ? toInstance(row) : null;
  }

  async countLeasedTasks(instanceIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(instanceIds.map((id) => [id, 0]));
    if (instanceIds.length === 0) return counts;
    const rows = this.conn.sql(`SELECT instance_id, count(*) AS n FROM tasks WHERE status IN ${LEASED} AND instance_id IN (${placeholders(instanceIds.length)}) GROUP BY instance_id`)
      .all(...instanceIds) as { instance_id: string; n: number }[];
    for (const r of rows) counts.set(r.instance_id, r.n);
    return counts;
  }

  async failNodeInstances(nodeId: string, reason: string): Promise<{ instances: InstanceRecord[]; tasks: ReclaimedTask[] }> {
    return this.conn.immediate(() => {
      const now = this.conn.clock.now();
      const instances = (
        this.conn.sql(`UPDATE instances SET state = 'FAILED', reason = ?, ended_at = ? WHERE node_id = ? AND state IN ${LIVE_INSTANCES} RETURNING *`)
          .all(reason, now, nodeId) as Row[]
      ).map(toInstance);
      const leased = this.conn.sql(`SELECT * FROM tasks WHERE node_id = ? AND status IN ${LEASED}`).all(nodeId) as Row[];
      const tasks = leased.map((row) => reclaimTask(this.conn, toTask(row), TASK_ERRORS.nodeLost(reason), now));
      return { instances, tasks };
    });
  }
}
