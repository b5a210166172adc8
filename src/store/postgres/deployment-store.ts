import type { DeploymentState } from '../../core/states.js';
import type { DeploymentEvent, DeploymentRecord, FleetEvent, LoadSample } from '../../core/types.js';
import type { DeploymentFilter, DeploymentStore, FleetEventFilter } from '../deployment-store.js';
import { toDeployment, toDeploymentEvent, toFleetEvent, toLoadSample } from '../rows.js';
import type { PgConnection } from './connection.js';
import { cmp, isIn, where } from './where.js';

/** First key of the lock that orders deployment events ("feve"): the two-key form, apart from the one-key locks. */
const EVENTS_LOCK_CLASS = 0x66657665;

/** The statements of the fleet's history: deployment events and the autoscaler's load samples. */
const HISTORY_SQL = {
  /**
   * Followers page events by `seq` (listFleetEvents), so a number must never become visible after
   * a higher one: an identity is drawn at insert but seen at commit, and two replicas' inserts
   * would otherwise commit out of order and a follower past the higher one would skip the lower
   * for good. A transaction-scoped advisory lock, taken before the number is drawn and held to the
   * commit, puts the inserts of one schema in a row; events are few, so the wait costs nothing.
   */
  addEvent: `WITH turn AS (SELECT pg_advisory_xact_lock(${EVENTS_LOCK_CLASS}, hashtext(current_schema())))
    INSERT INTO deployment_events (version_id, at, kind, subject, from_state, to_state, reason)
    SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::text FROM turn`,
  eventsOfVersion: 'SELECT * FROM deployment_events WHERE version_id = $1 ORDER BY seq DESC LIMIT $2',
  lastEventSeq: 'SELECT max(seq) AS seq FROM deployment_events',
  addLoadSample: 'INSERT INTO load_samples (version_id, at, queued, running, instances, desired) VALUES ($1, $2, $3, $4, $5, $6)',
  loadSamples: 'SELECT * FROM load_samples WHERE version_id = $1 AND at >= $2 ORDER BY at DESC LIMIT $3',
  pruneLoadSamples: 'DELETE FROM load_samples WHERE at < $1',
};

export class PgDeploymentStore implements DeploymentStore {
  constructor(private readonly conn: PgConnection) {}

  async putDeployment(d: DeploymentRecord): Promise<void> {
    await this.conn.sql.run(
      `INSERT INTO deployments (version_id, tenant_id, function_id, state, reason, min_instances, max_instances, target_per_instance,
        scale_down_delay_s, scale_to_zero_s, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (version_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, min_instances = excluded.min_instances,
        max_instances = excluded.max_instances, target_per_instance = excluded.target_per_instance,
        scale_down_delay_s = excluded.scale_down_delay_s, scale_to_zero_s = excluded.scale_to_zero_s, updated_at = excluded.updated_at`,
      [
        d.versionId, d.tenantId, d.functionId, d.state, d.reason, d.minInstances, d.maxInstances, d.targetPerInstance,
        d.scaleDownDelaySeconds, d.scaleToZeroAfterSeconds, d.createdAt, d.updatedAt,
      ],
    );
  }

  async getDeployment(tenantId: string, versionId: string): Promise<DeploymentRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM deployments WHERE tenant_id = $1 AND version_id = $2', [tenantId, versionId]);
    return row ? toDeployment(row) : null;
  }

  async listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    const w = where([
      isIn('state', filter.states),
      cmp('function_id', '=', filter.functionId),
      cmp('tenant_id', '=', filter.tenantId),
      cmp('version_id', '=', filter.versionId),
    ]);
    return (await this.conn.sql.rows(`SELECT * FROM deployments ${w.sql} ORDER BY created_at, version_id`, w.args)).map(toDeployment);
  }

  async setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean> {
    const changed = await this.conn.sql.run(
      'UPDATE deployments SET state = $1, reason = $2, updated_at = $3 WHERE version_id = $4 AND state = ANY($5)',
      [to, reason, this.conn.clock.now(), versionId, from],
    );
    return changed > 0;
  }

  async addDeploymentEvent(e: DeploymentEvent): Promise<void> {
    await this.conn.sql.run(HISTORY_SQL.addEvent, [e.versionId, e.at, e.kind, e.subject, e.from, e.to, e.reason]);
  }

  async listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]> {
    return (await this.conn.sql.rows(HISTORY_SQL.eventsOfVersion, [versionId, limit])).map(toDeploymentEvent).reverse();
  }

  async lastFleetEventSeq(): Promise<number> {
    const [row] = await this.conn.sql.rows<{ seq: string | null }>(HISTORY_SQL.lastEventSeq);
    return Number(row?.seq ?? 0);
  }

  async listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]> {
    const w = where([cmp('v.tenant_id', '=', tenantId), cmp('e.seq', '>=', filter.afterSeq + 1), cmp('v.function_id', '=', filter.functionId), cmp('e.version_id', '=', filter.versionId)]);
    const rows = await this.conn.sql.rows(
      `SELECT e.*, v.function_id FROM deployment_events e JOIN versions v ON v.id = e.version_id ${w.sql} ORDER BY e.seq LIMIT $${w.args.length + 1}`,
      [...w.args, limit],
    );
    return rows.map(toFleetEvent);
  }

  async addLoadSample(s: LoadSample): Promise<void> {
    await this.conn.sql.run(HISTORY_SQL.addLoadSample, [s.versionId, s.at, s.queued, s.running, s.instances, s.desired]);
  }

  async listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]> {
    return (await this.conn.sql.rows(HISTORY_SQL.loadSamples, [versionId, since, limit])).map(toLoadSample).reverse();
  }

  async pruneLoadSamples(before: number): Promise<number> {
    return this.conn.sql.run(HISTORY_SQL.pruneLoadSamples, [before]);
  }
}
