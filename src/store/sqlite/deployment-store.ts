import type { DeploymentState } from '../../core/states.js';
import type { DeploymentEvent, DeploymentRecord, FleetEvent, LoadSample } from '../../core/types.js';
import type { DeploymentFilter, DeploymentStore, FleetEventFilter } from '../deployment-store.js';
import { toDeployment, toDeploymentEvent, toFleetEvent, toLoadSample } from '../rows.js';
import type { Row, SqliteConnection } from './connection.js';
import { cmp, isIn, placeholders, where } from './where.js';

export class SqliteDeploymentStore implements DeploymentStore {
  constructor(private readonly conn: SqliteConnection) {}

  async putDeployment(d: DeploymentRecord): Promise<void> {
    this.conn.sql(
        `INSERT INTO deployments (version_id, tenant_id, function_id, state, reason, min_instances, max_instances, target_per_instance,
          scale_down_delay_s, scale_to_zero_s, created_at, updated_at)
         VALUES (@versionId, @tenantId, @functionId, @state, @reason, @minInstances, @maxInstances, @targetPerInstance,
          @scaleDownDelaySeconds, @scaleToZeroAfterSeconds, @createdAt, @updatedAt)
         ON CONFLICT (version_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, min_instances = excluded.min_instances,
          max_instances = excluded.max_instances, target_per_instance = excluded.target_per_instance,
          scale_down_delay_s = excluded.scale_down_delay_s, scale_to_zero_s = excluded.scale_to_zero_s, updated_at = excluded.updated_at`,
      )
      .run(d);
  }

  async getDeployment(tenantId: string, versionId: string): Promise<DeploymentRecord | null> {
    const row = this.conn.sql('SELECT * FROM deployments WHERE tenant_id = ? AND version_id = ?').get(tenantId, versionId) as Row | undefined;
    return row ? toDeployment(row) : null;
  }

  async listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    const w = where(isIn('state', filter.states), cmp('function_id', '=', filter.functionId), cmp('tenant_id', '=', filter.tenantId), cmp('version_id', '=', filter.versionId));
    return (this.conn.sql(`SELECT * FROM deployments ${w.sql} ORDER BY created_at`).all(...w.args) as Row[]).map(toDeployment);
  }

  async setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean> {
    const result = this.conn.sql(`UPDATE deployments SET state = ?, reason = ?, updated_at = ? WHERE version_id = ? AND state IN (${placeholders(from.length)})`)
      .run(to, reason, this.conn.clock.now(), versionId, ...from);
    return result.changes > 0;
  }

  async addDeploymentEvent(e: DeploymentEvent): Promise<void> {
    this.conn.sql('INSERT INTO deployment_events (version_id, at, kind, subject, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.versionId, e.at, e.kind, e.subject, e.from, e.to, e.reason);
  }

  async listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]> {
    const rows = this.conn.sql('SELECT * FROM deployment_events WHERE version_id = ? ORDER BY seq DESC LIMIT ?').all(versionId, limit) as Row[];
    return rows.map(toDeploymentEvent).reverse();
  }

  async lastFleetEventSeq(): Promise<number> {
    return Number((this.conn.sql('SELECT max(seq) AS seq FROM deployment_events').get() as { seq: number | null }).seq ?? 0);
  }

  async listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]> {
    const w = where(cmp('v.tenant_id', '=', tenantId), cmp('e.seq', '>=', filter.afterSeq + 1), cmp('v.function_id', '=', filter.functionId), cmp('e.version_id', '=', filter.versionId));
    const rows = this.conn.sql(`SELECT e.*, v.function_id FROM deployment_events e JOIN versions v ON v.id = e.version_id ${w.sql} ORDER BY e.seq LIMIT ?`)
      .all(...w.args, limit) as Row[];
    return rows.map(toFleetEvent);
  }

  async addLoadSample(s: LoadSample): Promise<void> {
    this.conn.sql('INSERT INTO load_samples (version_id, at, queued, running, instances, desired) VALUES (?, ?, ?, ?, ?, ?)').run(s.versionId, s.at, s.queued, s.running, s.instances, s.desired);
  }

  async listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]> {
    const rows = this.conn.sql('SELECT * FROM load_samples WHERE version_id = ? AND at >= ? ORDER BY at DESC LIMIT ?').all(versionId, since, limit) as Row[];
    return rows.map(toLoadSample).reverse();
  }

  async pruneLoadSamples(before: number): Promise<number> {
    return this.conn.sql('DELETE FROM load_samples WHERE at < ?').run(before).changes;
  }
}
