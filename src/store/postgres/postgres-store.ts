import type pg from 'pg';
import { type AttemptOutcome, decideCompletion } from '../../core/completion.js';
import { FerryError, tenantExists } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { LEASED_TASK_STATUSES, LIVE_INSTANCE_STATES, SERVING_DEPLOYMENT_STATES, type DeploymentState, type NodeState, type StoredInstanceState, type TaskStatus } from '../../core/states.js';
import type {
  ApiKey,
  DeploymentEvent,
  DeploymentRecord,
  FleetEvent,
  LoadSample,
  FunctionRecord,
  InstanceRecord,
  LeaseReport,
  NodeRecord,
  Page,
  TaskLogLine,
  TaskProgress,
  TaskRecord,
  TaskRef,
  Tenant,
  VersionRecord,
} from '../../core/types.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type {
  ClaimRequest,
  CompleteResult,
  DeploymentFilter,
  EnqueueResult,
  FleetEventFilter,
  InstanceFilter,
  NewTask,
  PageRequest,
  QueueCounts,
  ReclaimedTask,
  Store,
  TaskFilter,
} from '../store.js';
import { type PoolOptions, type Row, Sql, createPool, storableText, transaction } from './connection.js';
import { DatabaseClock } from './database-clock.js';
import { migrate } from './migrations.js';
import { byId, cancelledError, reclaimTasks } from './reclaim.js';
import { encodeJson, toApiKey, toDeployment, toDeploymentEvent, toFleetEvent, toFunction, toLoadSample, toInstance, toNode, toTask, toTenant, toVersion } from '../rows.js';
import { HISTORY_SQL } from './history.js';
import { SQL, recordAttempt } from './statements.js';
import { isUniqueViolation, toStoreError } from './store-errors.js';
import { cmp, isIn, where } from './where.js';

export interface PostgresStoreOptions extends PoolOptions {
  /** Judges every time the store writes or compares; by default the database server's clock. */
  clock?: Clock;
}

const LEASED = `('${LEASED_TASK_STATUSES.join("','")}')`;
const LIVE_INSTANCES = `('${LIVE_INSTANCE_STATES.join("','")}')`;
const SERVING = `('${SERVING_DEPLOYMENT_STATES.join("','")}')`;

/**
 * The fleet store: state and queue in PostgreSQL, shared by any number of `ferry server` replicas.
 * Every method is atomic on its own: one statement where possible (the hot paths are one round
 * trip each, see statements.ts), otherwise a transaction on one pooled connection. Concurrency
 * is handled by row locks: claims skip rows other claimers hold (SKIP LOCKED), completions guard
 * their update by the attempt they read, and multi-row takeovers lock rows in seq order.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly sql: Sql;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** The clock that judges leases; hand it to the control plane so both agree. */
    readonly clock: Clock,
  ) {
    this.sql = new Sql(pool, true);
  }

  /**
   * Connects, applies missing migrations and, unless a clock is given, synchronises a clock with
   * the database server. Throws STORE_UNAVAILABLE when the server cannot be reached.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = createPool(options);
    try {
      await migrate(pool, options.schema);
      const clock = options.clock ?? (await DatabaseClock.start(pool));
      return new PostgresStore(pool, clock);
    } catch (err) {
      await pool.end().catch(() => {});
      throw toStoreError(err);
    }
  }

  private tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return transaction(this.pool, work);
  }

  async now(): Promise<number> {
    return this.clock.now();
  }

  async ping(): Promise<void> {
    await this.sql.run('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.clock instanceof DatabaseClock) this.clock.stop();
    await this.pool.end();
  }

  async createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void> {
    try {
      await this.tx(async (sql) => {
        await sql.run('INSERT INTO tenants (id, name, system, created_at) VALUES ($1, $2, $3, $4)', [tenant.id, tenant.name, tenant.system, tenant.createdAt]);
        await insertApiKey(sql, firstKey);
      });
    } catch (err) {
      throw isUniqueViolation(err, 'tenants_name_key') ? tenantExists(tenant.name) : err;
    }
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = await this.sql.one('SELECT * FROM tenants WHERE id = $1', [id]);
    return row ? toTenant(row) : null;
  }

  async countTenants(): Promise<number> {
    return (await this.sql.one<{ n: number }>('SELECT count(*) AS n FROM tenants'))!.n;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    await insertApiKey(this.sql, key);
  }

  async findApiKey(hash: string): Promise<ApiKey | null> {
    const row = await this.sql.one(SQL.apiKey, [hash]);
    return row ? toApiKey(row) : null;
  }

  async createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    const exists = (): FerryError => new FerryError('FUNCTION_EXISTS', `a function named "${fn.name}" already exists`);
    try {
      return await this.tx(async (sql) => {
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
    const row = await this.sql.one('SELECT * FROM functions WHERE tenant_id = $1 AND (id = $2 OR name = $2)', [tenantId, idOrName]);
    return row ? toFunction(row) : null;
  }

  async listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = await this.sql.rows('SELECT * FROM functions WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3', [tenantId, after, page.limit + 1]);
    return pageOf(rows.map(toFunction), page.limit, (f) => f.id);
  }

  async deleteFunction(tenantId: string, functionId: string): Promise<void> {
    await this.tx(async (sql) => {
      const serving = await sql.one(`SELECT 1 FROM deployments WHERE tenant_id = $1 AND function_id = $2 AND state IN ${SERVING}`, [tenantId, functionId]);
      if (serving) throw new FerryError('FUNCTION_DEPLOYED', 'the function has a deployment; undeploy its versions first');
      await sql.run('DELETE FROM functions WHERE tenant_id = $1 AND id = $2', [tenantId, functionId]);
    });
  }

  async addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.tx((sql) => insertVersion(sql, version));
  }

  async getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null> {
    const row = await this.sql.one('SELECT * FROM versions WHERE tenant_id = $1 AND id = $2', [tenantId, versionId]);
    return row ? toVersion(row) : null;
  }

  async listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = await this.sql.rows('SELECT * FROM versions WHERE tenant_id = $1 AND function_id = $2 AND id > $3 ORDER BY id LIMIT $4', [tenantId, functionId, after, page.limit + 1]);
    return pageOf(rows.map(toVersion), page.limit, (v) => v.id);
  }

  async deleteVersion(tenantId: string, versionId: string): Promise<void> {
    await this.tx(async (sql) => {
      const serving = await sql.one(`SELECT 1 FROM deployments WHERE tenant_id = $1 AND version_id = $2 AND state IN ${SERVING}`, [tenantId, versionId]);
      if (serving) throw new FerryError('VERSION_DEPLOYED', 'the version is deployed; undeploy it first');
      await sql.run('DELETE FROM versions WHERE tenant_id = $1 AND id = $2', [tenantId, versionId]);
    });
  }

  async putDeployment(d: DeploymentRecord): Promise<void> {
    await this.sql.run(
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
    const row = await this.sql.one('SELECT * FROM deployments WHERE tenant_id = $1 AND version_id = $2', [tenantId, versionId]);
    return row ? toDeployment(row) : null;
  }

  async listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    const w = where([
      isIn('state', filter.states),
      cmp('function_id', '=', filter.functionId),
      cmp('tenant_id', '=', filter.tenantId),
      cmp('version_id', '=', filter.versionId),
    ]);
    return (await this.sql.rows(`SELECT * FROM deployments ${w.sql} ORDER BY created_at, version_id`, w.args)).map(toDeployment);
  }

  async setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE deployments SET state = $1, reason = $2, updated_at = $3 WHERE version_id = $4 AND state = ANY($5)',
      [to, reason, this.clock.now(), versionId, from],
    );
    return changed > 0;
  }

  async addDeploymentEvent(e: DeploymentEvent): Promise<void> {
    await this.sql.run(HISTORY_SQL.addEvent, [e.versionId, e.at, e.kind, e.subject, e.from, e.to, e.reason]);
  }

  async listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]> {
    return (await this.sql.rows(HISTORY_SQL.eventsOfVersion, [versionId, limit])).map(toDeploymentEvent).reverse();
  }

  async addLoadSample(s: LoadSample): Promise<void> {
    await this.sql.run(HISTORY_SQL.addLoadSample, [s.versionId, s.at, s.queued, s.running, s.instances, s.desired]);
  }

  async listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]> {
    return (await this.sql.rows(HISTORY_SQL.loadSamples, [versionId, since, limit])).map(toLoadSample).reverse();
  }

  async pruneLoadSamples(before: number): Promise<number> {
    return this.sql.run(HISTORY_SQL.pruneLoadSamples, [before]);
  }

  async lastFleetEventSeq(): Promise<number> {
    const [row] = await this.sql.rows<{ seq: string | null }>(HISTORY_SQL.lastEventSeq);
    return Number(row?.seq ?? 0);
  }

  async listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]> {
    const w = where([cmp('v.tenant_id', '=', tenantId), cmp('e.seq', '>=', filter.afterSeq + 1), cmp('v.function_id', '=', filter.functionId), cmp('e.version_id', '=', filter.versionId)]);
    const rows = await this.sql.rows(
      `SELECT e.*, v.function_id FROM deployment_events e JOIN versions v ON v.id = e.version_id ${w.sql} ORDER BY e.seq LIMIT $${w.args.length + 1}`,
      [...w.args, limit],
    );
    return rows.map(toFleetEvent);
  }

  async upsertNode(n: NodeRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO nodes (id, name, gpus, state, last_seen_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, gpus = excluded.gpus, state = excluded.state, last_seen_at = excluded.last_seen_at`,
      [n.id, n.name, JSON.stringify(n.gpus), n.state, n.lastSeenAt, n.createdAt],
    );
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const row = await this.sql.one('SELECT * FROM nodes WHERE id = $1', [id]);
    return row ? toNode(row) : null;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.sql.rows('SELECT * FROM nodes ORDER BY created_at, id')).map(toNode);
  }

  async touchNode(id: string): Promise<NodeState | null> {
    // One round trip per heartbeat: the update only moves last_seen_at, so the state the outer
    // SELECT reads (from before the update) is the state after it.
    const row = await this.sql.one<{ state: NodeState }>(
      `WITH seen AS (UPDATE nodes SET last_seen_at = $2 WHERE id = $1 AND state = 'READY')
       SELECT state FROM nodes WHERE id = $1`,
      [id, this.clock.now()],
    );
    return row?.state ?? null;
  }

  async markLostNodes(seenBefore: number, reason: string): Promise<{ nodes: NodeRecord[]; instances: InstanceRecord[] }> {
    return this.tx(async (sql) => {
      const nodes = (await sql.rows("UPDATE nodes SET state = 'LOST' WHERE state = 'READY' AND last_seen_at < $1 RETURNING *", [seenBefore])).map(toNode);
      if (nodes.length === 0) return { nodes, instances: [] };
      nodes.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      const instances = await sql.rows(
        `UPDATE instances SET state = 'FAILED', reason = $1, ended_at = $2 WHERE node_id = ANY($3) AND state IN ${LIVE_INSTANCES} RETURNING *`,
        [reason, this.clock.now(), nodes.map((n) => n.id)],
      );
      return { nodes, instances: instances.map(toInstance) };
    });
  }

  async createInstance(i: InstanceRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO instances (id, tenant_id, function_id, version_id, node_id, state, gpus, reason, created_at, ready_at, ended_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [i.id, i.tenantId, i.functionId, i.versionId, i.nodeId, i.state, JSON.stringify(i.gpus), i.reason, i.createdAt, i.readyAt, i.endedAt],
    );
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const row = await this.sql.one('SELECT * FROM instances WHERE id = $1', [id]);
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
    return (await this.sql.rows(`SELECT * FROM instances ${w.sql} ORDER BY created_at, id`, w.args)).map(toInstance);
  }

  async moveInstance(id: string, from: StoredInstanceState[], to: StoredInstanceState, reason: string | null): Promise<InstanceRecord | null> {
    const row = await this.sql.one(
      `UPDATE instances SET state = $1, reason = COALESCE($2, reason),
         ready_at = CASE WHEN $1 = 'IDLE' THEN $3 ELSE ready_at END,
         ended_at = CASE WHEN $1 IN ('STOPPED', 'FAILED') THEN $3 ELSE ended_at END
       WHERE id = $4 AND state = ANY($5) RETURNING *`,
      [to, reason, this.clock.now(), id, from],
    );
    return row ? toInstance(row) : null;
  }

  async countLeasedTasks(instanceIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(instanceIds.map((id) => [id, 0]));
    if (instanceIds.length === 0) return counts;
    const rows = await this.sql.rows<{ instance_id: string; n: number }>(
      `SELECT instance_id, count(*) AS n FROM tasks WHERE status IN ${LEASED} AND instance_id = ANY($1) GROUP BY instance_id`,
      [instanceIds],
    );
    for (const r of rows) counts.set(r.instance_id, r.n);
    return counts;
  }

  async failNodeInstances(nodeId: string, reason: string): Promise<{ instances: InstanceRecord[]; tasks: ReclaimedTask[] }> {
    return this.tx(async (sql) => {
      const now = this.clock.now();
      const instances = await sql.rows(
        `UPDATE instances SET state = 'FAILED', reason = $1, ended_at = $2 WHERE node_id = $3 AND state IN ${LIVE_INSTANCES} RETURNING *`,
        [reason, now, nodeId],
      );
      const leased = await sql.rows(`SELECT * FROM tasks WHERE node_id = $1 AND status IN ${LEASED} ORDER BY seq FOR UPDATE`, [nodeId]);
      const tasks = await reclaimTasks(sql, leased.map(toTask), { code: 'NODE_LOST', message: reason }, now);
      return { instances: instances.map(toInstance), tasks };
    });
  }

  async enqueueTask({ task, requestHash }: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult> {
    const fields = [
      task.id, task.tenantId, task.functionId, task.versionId, task.taskType, task.priority, JSON.stringify(task.input ?? null),
      task.attempt, task.maxAttempts, task.timeoutSeconds, task.idempotencyKey, requestHash, task.createdAt, task.runAt, task.expiresAt,
    ];
    if (!claimFor) {
      if (await this.sql.one(SQL.insertTask, fields)) return { created: true, task, claimed: [] };
      // The key is taken: a second round trip, only for a repeated request.
      const earlier = (await this.sql.one(SQL.taskByKey, [task.tenantId, task.idempotencyKey]))!;
      return { created: false, task: toTask(earlier), sameRequest: earlier.request_hash === requestHash };
    }
    const now = this.clock.now();
    const [first, ...claimedRows] = await this.sql.rows(SQL.enqueueAndClaim, [...fields, ...claimArgs(claimFor, now)]);
    if (first?.tag === 'earlier') return { created: false, task: toTask(first), sameRequest: first.request_hash === requestHash };
    if (first?.tag !== 'created') throw new Error(`enqueue_and_claim returned ${String(first?.tag)} first`);
    const claimed = inClaimOrder(claimedRows).map(toTask);
    return { created: true, task: claimed.find((t) => t.id === task.id) ?? task, claimed };
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | null> {
    const row = await this.sql.one(SQL.taskOfTenant, [taskId, tenantId]);
    return row ? toTask(row) : null;
  }

  async listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where([
      cmp('tenant_id', '=', tenantId),
      cmp('function_id', '=', filter.functionId),
      cmp('version_id', '=', filter.versionId),
      isIn('status', filter.statuses),
      cmp('created_at', '>=', filter.createdAfter),
      cmp('created_at', '<', filter.createdBefore),
      cmp('seq', '<', before),
    ]);
    const rows = await this.sql.rows(`SELECT * FROM tasks ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    const seqs = rows.map((r) => Number(r.seq));
    const items = rows.map(toTask);
    const more = items.length > page.limit;
    return { items: items.slice(0, page.limit), nextCursor: more ? encodeCursor(seqs[page.limit - 1]!) : null };
  }

  async taskPosition(task: TaskRecord): Promise<number> {
    return (await this.sql.one<{ position: number }>(SQL.position, [task.versionId, task.priority, task.id]))!.position;
  }

  async claimTasks(req: ClaimRequest): Promise<TaskRecord[]> {
    return inClaimOrder(await this.sql.rows(SQL.claim, claimArgs(req, this.clock.now()))).map(toTask);
  }

  async renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport> {
    const rows = await this.sql.rows<{ id: string; attempt: number; status: TaskStatus }>(SQL.renew, [instanceId, this.clock.now() + leaseMs, held.map((r) => r.id)]);
    const current = new Map(rows.map((r) => [r.id, r]));
    const report: LeaseReport = { cancel: [], lost: [] };
    for (const ref of held) {
      const row = current.get(ref.id);
      if (!row || row.attempt !== ref.attempt) report.lost.push(ref);
      else if (row.status === 'CANCELLING') report.cancel.push(ref);
    }
    return report;
  }

  async reportProgress(ref: TaskRef, p: TaskProgress): Promise<boolean> {
    const message = p.message === undefined || p.message === null ? null : storableText(p.message);
    return (await this.sql.run(SQL.progress, [ref.id, ref.attempt, p.progress, message, encodeJson(p.partialOutput)])) > 0;
  }

  async appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    if (lines.length === 0) return;
    await this.sql.run(SQL.insertLogs, [ref.id, ref.attempt, lines.map((l) => l.stream), lines.map((l) => storableText(l.text)), lines.map((l) => l.at)]);
  }

  async getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]> {
    return this.sql.rows<TaskLogLine>(
      `SELECT l.seq, l.attempt, l.stream, l.text, l.at FROM task_logs l JOIN tasks t ON t.id = l.task_id
       WHERE l.task_id = $1 AND t.tenant_id = $2 AND l.seq > $3 ORDER BY l.seq LIMIT $4`,
      [taskId, tenantId, afterSeq, limit],
    );
  }

  async completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult> {
    let claimed: TaskRecord[] = [];
    let pending = next;
    // Read, decide (core/completion.ts), write only if the task is still as read. A miss means a
    // cancel or the reaper moved it in between: read it again and decide on what it is now.
    for (;;) {
      const row = await this.sql.one(SQL.taskById, [ref.id]);
      const task = row ? toTask(row) : null;
      if (!task || task.attempt !== ref.attempt || !(LEASED_TASK_STATUSES as readonly string[]).includes(task.status)) {
        if (pending) claimed = await this.claimTasks(pending);
        return { accepted: false, task, claimed };
      }
      const now = this.clock.now();
      const decision = decideCompletion(task.status, outcome, task.attempt - task.lostAttempts, task.maxAttempts, retryBaseMs);
      const args =
        decision.kind === 'retry'
          ? [[task.id], 0, now + decision.delayMs, encodeJson(outcome.error)]
          : [
              [task.id],
              decision.status,
              decision.status === 'SUCCEEDED' ? encodeJson(outcome.output) : null,
              decision.status === 'SUCCEEDED' ? null : encodeJson(decision.status === 'CANCELLED' ? cancelledError('CANCELLED') : outcome.error),
              now,
            ];
      // A retry goes back to the queue, a change of its queue counter (migration 2); a claim in the
      // same statement would change others in a second batch, out of key order, and could deadlock
      // with another claim. So a retry, the rarer path, claims on its own afterwards, which also lets
      // that claim see the task it just re-queued, as in SQLite.
      const claimAlong = pending !== undefined && decision.kind !== 'retry';
      const statement = recordAttempt(decision.kind === 'retry' ? 'requeue' : 'finish', claimAlong);
      const rows = await this.sql.rows(statement, [...args, task.attempt, task.status, ...(claimAlong ? claimArgs(pending!, now) : [])]);
      const done = claimAlong ? rows.find((r) => r.tag === 'done') : rows[0];
      if (claimAlong) {
        claimed = inClaimOrder(rows.filter((r) => r.tag === 'claimed')).map(toTask);
        pending = undefined;
      }
      if (!done) continue;
      if (pending) claimed = await this.claimTasks(pending);
      return { accepted: true, task: toTask(done), claimed };
    }
  }

  async requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null> {
    return this.tx(async (sql) => {
      const row = await sql.one(`${SQL.taskOfTenant} FOR UPDATE`, [taskId, tenantId]);
      if (!row) return null;
      const task = toTask(row);
      const error = encodeJson({ code: 'CANCELLED', message: 'cancelled by request' });
      const previous = task.status;
      if (previous === 'QUEUED') {
        return { previous, task: toTask((await sql.one(SQL.finish, [[taskId], 'CANCELLED', null, error, this.clock.now()]))!) };
      }
      if (previous === 'RUNNING') {
        return { previous, task: toTask((await sql.one("UPDATE tasks SET status = 'CANCELLING', error = $1 WHERE id = $2 RETURNING *", [error, taskId]))!) };
      }
      return { previous, task };
    });
  }

  async reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]> {
    return this.tx(async (sql) => {
      const now = this.clock.now();
      // SKIP LOCKED: the reaper of another replica, or a completion in flight, holds those rows.
      const rows = await sql.rows(`SELECT * FROM tasks WHERE status IN ${LEASED} AND lease_expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit]);
      return reclaimTasks(sql, rows.map(toTask), { code: 'LEASE_EXPIRED', message: 'the agent running this attempt stopped renewing its lease' }, now);
    });
  }

  async releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]> {
    if (instanceIds.length === 0) return [];
    return this.tx(async (sql) => {
      const now = this.clock.now();
      const rows = await sql.rows(`SELECT * FROM tasks WHERE status IN ${LEASED} AND instance_id = ANY($1) ORDER BY seq FOR UPDATE`, [instanceIds]);
      const tasks = rows.map(toTask);
      if (how === 'requeue') return reclaimTasks(sql, tasks, { code: 'INSTANCE_STOPPED', message: 'its instance was stopped; running again' }, now);
      if (tasks.length === 0) return [];
      const error = encodeJson({ code: 'CANCELLED', message: 'its instance was stopped by an undeploy' });
      const cancelled = byId(await sql.rows(SQL.finish, [tasks.map((t) => t.id), 'CANCELLED', null, error, now]));
      return tasks.map((t) => ({ task: cancelled.get(t.id)!, status: 'CANCELLED' as const, taken: { attempt: t.attempt, instanceId: t.instanceId } }));
    });
  }

  async expireQueuedTasks(limit: number): Promise<TaskRecord[]> {
    const now = this.clock.now();
    const error = encodeJson({ code: 'EXPIRED', message: 'queued longer than the version allows (maxQueuedSeconds)' });
    const rows = await this.sql.rows(
      `UPDATE tasks SET status = 'EXPIRED', finished_at = $1, error = $2
       WHERE seq IN (SELECT seq FROM tasks WHERE status = 'QUEUED' AND expires_at <= $1 LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *`,
      [now, error, limit],
    );
    return rows.map(toTask);
  }

  async queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts> {
    const w = where([cmp('version_id', '=', scope.versionId), cmp('function_id', '=', scope.functionId), cmp('tenant_id', '=', scope.tenantId)]);
    const rows = await this.sql.rows<{ status: TaskStatus; n: number }>(`SELECT status, count(*) AS n FROM tasks ${w.sql} GROUP BY status`, w.args);
    const byStatus: QueueCounts['byStatus'] = {};
    for (const r of rows) byStatus[r.status] = r.n;
    return { queued: byStatus.QUEUED ?? 0, running: (byStatus.RUNNING ?? 0) + (byStatus.CANCELLING ?? 0), byStatus };
  }

  async versionLoad(versionId: string): Promise<{ queued: number; running: number }> {
    return (await this.sql.one<{ queued: number; running: number }>(SQL.versionLoad, [versionId]))!;
  }

  async nextRunAt(versionId: string): Promise<number | null> {
    return (await this.sql.one<{ t: number | null }>("SELECT min(run_at) AS t FROM tasks WHERE version_id = $1 AND status = 'QUEUED'", [versionId]))!.t;
  }
}

async function insertApiKey(sql: Sql, key: ApiKey): Promise<void> {
  await sql.run(
    'INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [key.id, key.tenantId, key.name, key.scope, key.hash, key.createdAt],
  );
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

function claimArgs(req: ClaimRequest, now: number): unknown[] {
  return [req.instanceId, req.limit, now, now + req.leaseMs];
}

/** RETURNING gives no order: put claimed rows back in claim order (priority, then seq). */
function inClaimOrder(rows: Row[]): Row[] {
  return rows.sort((a, b) => (b.priority as number) - (a.priority as number) || (a.seq as number) - (b.seq as number));
}

function pageOf<T>(items: T[], limit: number, key: (item: T) => string | number): Page<T> {
  const more = items.length > limit;
  const kept = items.slice(0, limit);
  return { items: kept, nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null };
}
