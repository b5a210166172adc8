import Database from 'better-sqlite3';
import { type AttemptOutcome, decideCompletion, decideReclaim } from '../../core/completion.js';
import { FerryError, tenantExists } from '../../core/errors.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { LIMITS } from '../../core/limits.js';
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
  TaskError,
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
import { SQLITE_MIGRATIONS } from './migrations.js';
import { type HotStatements, prepareHotStatements } from './statements.js';
import { cmp, isIn, placeholders, where } from './where.js';
import { encodeJson as enc, toApiKey, toDeployment, toDeploymentEvent, toFleetEvent, toFunction, toLoadSample, toInstance, toNode, toTask, toTenant, toVersion } from '../rows.js';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throw-away store. */
  path: string;
  /** `normal` survives a crash of the process (kill -9); `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  clock?: Clock;
}

type Row = Record<string, unknown>;
const LEASED = `('${LEASED_TASK_STATUSES.join("','")}')`;
const LIVE_INSTANCES = `('${LIVE_INSTANCE_STATES.join("','")}')`;
const SERVING = `('${SERVING_DEPLOYMENT_STATES.join("','")}')`;

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so every method
 * runs to completion without yielding and is atomic on its own; writes that read first use
 * IMMEDIATE transactions so a second process on the same file waits instead of failing mid-way.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly stmt: HotStatements;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.stmt = prepareHotStatements(this.db);
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
    apply.immediate();
  }

  /**
   * A prepared statement for this SQL text, prepared once: better-sqlite3's prepare costs more
   * than most of the queries here. Texts vary only by placeholder count, so the cache stays small.
   */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      if (this.statements.size >= 1000) this.statements.clear();
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  async now(): Promise<number> {
    return this.clock.now();
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async createTenant(tenant: Tenant, firstKey: ApiKey): Promise<void> {
    this.db.transaction(() => {
      if (this.sql('SELECT 1 FROM tenants WHERE name = ?').get(tenant.name)) throw tenantExists(tenant.name);
      this.db
        .prepare('INSERT INTO tenants (id, name, system, created_at) VALUES (?, ?, ?, ?)')
        .run(tenant.id, tenant.name, tenant.system ? 1 : 0, tenant.createdAt);
      this.insertApiKey(firstKey);
    }).immediate();
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = this.sql('SELECT * FROM tenants WHERE id = ?').get(id) as Row | undefined;
    return row ? toTenant(row) : null;
  }

  async countTenants(): Promise<number> {
    return this.sql('SELECT count(*) FROM tenants').pluck().get() as number;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    this.insertApiKey(key);
  }

  private insertApiKey(key: ApiKey): void {
    this.db
      .prepare('INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key.id, key.tenantId, key.name, key.scope, key.hash, key.createdAt);
  }

  async findApiKey(hash: string): Promise<ApiKey | null> {
    const row = this.stmt.apiKey.get(hash) as Row | undefined;
    return row ? toApiKey(row) : null;
  }

  async createFunction(fn: FunctionRecord, firstVersion: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.db.transaction(() => {
      const taken = this.sql('SELECT 1 FROM functions WHERE tenant_id = ? AND name = ?').get(fn.tenantId, fn.name);
      if (taken) throw new FerryError('FUNCTION_EXISTS', `a function named "${fn.name}" already exists`);
      this.db
        .prepare('INSERT INTO functions (id, tenant_id, name, description, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(fn.id, fn.tenantId, fn.name, fn.description, JSON.stringify(fn.tags), fn.createdAt);
      return this.insertVersion(firstVersion);
    }).immediate();
  }

  private insertVersion(v: Omit<VersionRecord, 'number'>): VersionRecord {
    const number = ((this.sql('SELECT max(number) FROM versions WHERE function_id = ?').pluck().get(v.functionId) as number | null) ?? 0) + 1;
    this.db
      .prepare('INSERT INTO versions (id, tenant_id, function_id, number, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(v.id, v.tenantId, v.functionId, number, JSON.stringify(v.spec), v.createdAt);
    return { ...v, number };
  }

  async getFunction(tenantId: string, idOrName: string): Promise<FunctionRecord | null> {
    const row = this.sql('SELECT * FROM functions WHERE tenant_id = ? AND (id = ? OR name = ?)').get(tenantId, idOrName, idOrName) as Row | undefined;
    return row ? toFunction(row) : null;
  }

  async listFunctions(tenantId: string, page: PageRequest): Promise<Page<FunctionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = this.sql('SELECT * FROM functions WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?').all(tenantId, after, page.limit + 1) as Row[];
    return pageOf(rows.map(toFunction), page.limit, (f) => f.id);
  }

  async deleteFunction(tenantId: string, functionId: string): Promise<void> {
    this.db.transaction(() => {
      const serving = this.sql(`SELECT 1 FROM deployments WHERE tenant_id = ? AND function_id = ? AND state IN ${SERVING}`).get(tenantId, functionId);
      if (serving) throw new FerryError('FUNCTION_DEPLOYED', 'the function has a deployment; undeploy its versions first');
      this.sql('DELETE FROM functions WHERE tenant_id = ? AND id = ?').run(tenantId, functionId);
    }).immediate();
  }

  async addVersion(version: Omit<VersionRecord, 'number'>): Promise<VersionRecord> {
    return this.db.transaction(() => this.insertVersion(version)).immediate();
  }

  async getVersion(tenantId: string, versionId: string): Promise<VersionRecord | null> {
    const row = this.sql('SELECT * FROM versions WHERE tenant_id = ? AND id = ?').get(tenantId, versionId) as Row | undefined;
    return row ? toVersion(row) : null;
  }

  async listVersions(tenantId: string, functionId: string, page: PageRequest): Promise<Page<VersionRecord>> {
    const after = decodeCursor<string>(page.cursor, 'string') ?? '';
    const rows = this.db
      .prepare('SELECT * FROM versions WHERE tenant_id = ? AND function_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(tenantId, functionId, after, page.limit + 1) as Row[];
    return pageOf(rows.map(toVersion), page.limit, (v) => v.id);
  }

  async deleteVersion(tenantId: string, versionId: string): Promise<void> {
    this.db.transaction(() => {
      const serving = this.sql(`SELECT 1 FROM deployments WHERE tenant_id = ? AND version_id = ? AND state IN ${SERVING}`).get(tenantId, versionId);
      if (serving) throw new FerryError('VERSION_DEPLOYED', 'the version is deployed; undeploy it first');
      this.sql('DELETE FROM versions WHERE tenant_id = ? AND id = ?').run(tenantId, versionId);
    }).immediate();
  }

  async putDeployment(d: DeploymentRecord): Promise<void> {
    this.db
      .prepare(
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
    const row = this.sql('SELECT * FROM deployments WHERE tenant_id = ? AND version_id = ?').get(tenantId, versionId) as Row | undefined;
    return row ? toDeployment(row) : null;
  }

  async listDeployments(filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    const w = where(isIn('state', filter.states), cmp('function_id', '=', filter.functionId), cmp('tenant_id', '=', filter.tenantId), cmp('version_id', '=', filter.versionId));
    return (this.sql(`SELECT * FROM deployments ${w.sql} ORDER BY created_at`).all(...w.args) as Row[]).map(toDeployment);
  }

  async setDeploymentState(versionId: string, from: DeploymentState[], to: DeploymentState, reason: string | null): Promise<boolean> {
    const result = this.db
      .prepare(`UPDATE deployments SET state = ?, reason = ?, updated_at = ? WHERE version_id = ? AND state IN (${placeholders(from.length)})`)
      .run(to, reason, this.clock.now(), versionId, ...from);
    return result.changes > 0;
  }

  async addDeploymentEvent(e: DeploymentEvent): Promise<void> {
    this.db
      .prepare('INSERT INTO deployment_events (version_id, at, kind, subject, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.versionId, e.at, e.kind, e.subject, e.from, e.to, e.reason);
  }

  async listDeploymentEvents(versionId: string, limit: number): Promise<DeploymentEvent[]> {
    const rows = this.sql('SELECT * FROM deployment_events WHERE version_id = ? ORDER BY seq DESC LIMIT ?').all(versionId, limit) as Row[];
    return rows.map(toDeploymentEvent).reverse();
  }

  async addLoadSample(s: LoadSample): Promise<void> {
    this.sql('INSERT INTO load_samples (version_id, at, queued, running, instances, desired) VALUES (?, ?, ?, ?, ?, ?)').run(s.versionId, s.at, s.queued, s.running, s.instances, s.desired);
  }

  async listLoadSamples(versionId: string, since: number, limit: number): Promise<LoadSample[]> {
    const rows = this.sql('SELECT * FROM load_samples WHERE version_id = ? AND at >= ? ORDER BY at DESC LIMIT ?').all(versionId, since, limit) as Row[];
    return rows.map(toLoadSample).reverse();
  }

  async pruneLoadSamples(before: number): Promise<number> {
    return this.sql('DELETE FROM load_samples WHERE at < ?').run(before).changes;
  }

  async lastFleetEventSeq(): Promise<number> {
    return Number((this.sql('SELECT max(seq) AS seq FROM deployment_events').get() as { seq: number | null }).seq ?? 0);
  }

  async listFleetEvents(tenantId: string, filter: FleetEventFilter, limit: number): Promise<FleetEvent[]> {
    const w = where(cmp('v.tenant_id', '=', tenantId), cmp('e.seq', '>=', filter.afterSeq + 1), cmp('v.function_id', '=', filter.functionId), cmp('e.version_id', '=', filter.versionId));
    const rows = this.db
      .prepare(`SELECT e.*, v.function_id FROM deployment_events e JOIN versions v ON v.id = e.version_id ${w.sql} ORDER BY e.seq LIMIT ?`)
      .all(...w.args, limit) as Row[];
    return rows.map(toFleetEvent);
  }

  async upsertNode(n: NodeRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO nodes (id, name, gpus, state, last_seen_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, gpus = excluded.gpus, state = excluded.state, last_seen_at = excluded.last_seen_at`,
      )
      .run(n.id, n.name, JSON.stringify(n.gpus), n.state, n.lastSeenAt, n.createdAt);
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const row = this.sql('SELECT * FROM nodes WHERE id = ?').get(id) as Row | undefined;
    return row ? toNode(row) : null;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (this.sql('SELECT * FROM nodes ORDER BY created_at, id').all() as Row[]).map(toNode);
  }

  async touchNode(id: string): Promise<NodeState | null> {
    return this.db.transaction(() => {
      this.sql("UPDATE nodes SET last_seen_at = ? WHERE id = ? AND state = 'READY'").run(this.clock.now(), id);
      return (this.sql('SELECT state FROM nodes WHERE id = ?').pluck().get(id) as NodeState | undefined) ?? null;
    })();
  }

  async markLostNodes(seenBefore: number, reason: string): Promise<{ nodes: NodeRecord[]; instances: InstanceRecord[] }> {
    return this.db.transaction(() => {
      const nodes = (this.sql("UPDATE nodes SET state = 'LOST' WHERE state = 'READY' AND last_seen_at < ? RETURNING *").all(seenBefore) as Row[]).map(toNode);
      const failInstances = this.sql(`UPDATE instances SET state = 'FAILED', reason = ?, ended_at = ? WHERE node_id = ? AND state IN ${LIVE_INSTANCES} RETURNING *`);
      const instances = nodes.flatMap((n) => (failInstances.all(reason, this.clock.now(), n.id) as Row[]).map(toInstance));
      return { nodes, instances };
    }).immediate();
  }

  async createInstance(i: InstanceRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO instances (id, tenant_id, function_id, version_id, node_id, state, gpus, reason, created_at, ready_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(i.id, i.tenantId, i.functionId, i.versionId, i.nodeId, i.state, JSON.stringify(i.gpus), i.reason, i.createdAt, i.readyAt, i.endedAt);
  }

  async getInstance(id: string): Promise<InstanceRecord | null> {
    const row = this.sql('SELECT * FROM instances WHERE id = ?').get(id) as Row | undefined;
    return row ? toInstance(row) : null;
  }

  async listInstances(filter: InstanceFilter): Promise<InstanceRecord[]> {
    const w = where(cmp('tenant_id', '=', filter.tenantId), cmp('function_id', '=', filter.functionId), cmp('node_id', '=', filter.nodeId), cmp('version_id', '=', filter.versionId), isIn('state', filter.states));
    return (this.sql(`SELECT * FROM instances ${w.sql} ORDER BY created_at, id`).all(...w.args) as Row[]).map(toInstance);
  }

  async moveInstance(id: string, from: StoredInstanceState[], to: StoredInstanceState, reason: string | null): Promise<InstanceRecord | null> {
    const now = this.clock.now();
    const row = this.db
      .prepare(
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
    const rows = this.db
      .prepare(`SELECT instance_id, count(*) AS n FROM tasks WHERE status IN ${LEASED} AND instance_id IN (${placeholders(instanceIds.length)}) GROUP BY instance_id`)
      .all(...instanceIds) as { instance_id: string; n: number }[];
    for (const r of rows) counts.set(r.instance_id, r.n);
    return counts;
  }

  async failNodeInstances(nodeId: string, reason: string): Promise<{ instances: InstanceRecord[]; tasks: ReclaimedTask[] }> {
    return this.db.transaction(() => {
      const now = this.clock.now();
      const instances = (
        this.db
          .prepare(`UPDATE instances SET state = 'FAILED', reason = ?, ended_at = ? WHERE node_id = ? AND state IN ${LIVE_INSTANCES} RETURNING *`)
          .all(reason, now, nodeId) as Row[]
      ).map(toInstance);
      const leased = this.sql(`SELECT * FROM tasks WHERE node_id = ? AND status IN ${LEASED}`).all(nodeId) as Row[];
      const tasks = leased.map((row) => this.reclaim(toTask(row), { code: 'NODE_LOST', message: reason }, now));
      return { instances, tasks };
    }).immediate();
  }

  async enqueueTask({ task, requestHash }: NewTask, claimFor?: ClaimRequest): Promise<EnqueueResult> {
    return this.db.transaction((): EnqueueResult => {
      if (task.idempotencyKey !== null) {
        const earlier = this.stmt.taskByKey.get(task.tenantId, task.idempotencyKey) as Row | undefined;
        if (earlier) return { created: false, task: toTask(earlier), sameRequest: earlier.request_hash === requestHash };
      }
      this.stmt.insertTask.run({ ...task, input: JSON.stringify(task.input ?? null), requestHash });
      const claimed = claimFor ? this.claimIn(claimFor) : [];
      return { created: true, task: claimed.find((t) => t.id === task.id) ?? task, claimed };
    }).immediate();
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | null> {
    const row = this.stmt.taskById.get(taskId) as Row | undefined;
    return row && row.tenant_id === tenantId ? toTask(row) : null;
  }

  async listTasks(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where(
      cmp('tenant_id', '=', tenantId),
      cmp('function_id', '=', filter.functionId),
      cmp('version_id', '=', filter.versionId),
      isIn('status', filter.statuses),
      cmp('created_at', '>=', filter.createdAfter),
      cmp('created_at', '<', filter.createdBefore),
      cmp('seq', '<', before),
    );
    const rows = this.sql(`SELECT * FROM tasks ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    const seqs = rows.map((r) => Number(r.seq));
    const items = rows.map(toTask);
    const more = items.length > page.limit;
    return { items: items.slice(0, page.limit), nextCursor: more ? encodeCursor(seqs[page.limit - 1]!) : null };
  }

  async taskPosition(task: TaskRecord): Promise<number> {
    return this.stmt.position.pluck().get({ versionId: task.versionId, priority: task.priority, id: task.id }) as number;
  }

  async claimTasks(req: ClaimRequest): Promise<TaskRecord[]> {
    return this.db.transaction(() => this.claimIn(req)).immediate();
  }

  /** Leases the instance's next tasks; runs inside the caller's transaction. */
  private claimIn(req: ClaimRequest): TaskRecord[] {
    const inst = this.stmt.instanceState.get(req.instanceId) as { state: string; version_id: string; node_id: string } | undefined;
    if (!inst || inst.state !== 'IDLE') return [];
    const now = this.clock.now();
    // Look first, write only when there is something: an UPDATE on tasks costs ~0.1 ms to set up
    // (a cursor per index, the triggers) even when it matches nothing, and most claims find nothing.
    const seqs = this.stmt.claimable.pluck().all({ versionId: inst.version_id, now, limit: req.limit }) as number[];
    if (seqs.length === 0) return [];
    const rows = this.stmt.lease.all({ instanceId: req.instanceId, nodeId: inst.node_id, now, leaseUntil: now + req.leaseMs, seqs: JSON.stringify(seqs) }) as Row[];
    // RETURNING gives no order: put them back in claim order.
    const order = new Map(seqs.map((seq, i) => [seq, i]));
    return rows.sort((a, b) => order.get(a.seq as number)! - order.get(b.seq as number)!).map(toTask);
  }

  async renewLeases(instanceId: string, held: TaskRef[], leaseMs: number): Promise<LeaseReport> {
    const rows = this.stmt.renew.all({
      instanceId,
      leaseUntil: this.clock.now() + leaseMs,
      ids: JSON.stringify(held.map((r) => r.id)),
    }) as { id: string; attempt: number; status: TaskStatus }[];
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
    const result = this.stmt.progress.run({
      id: ref.id,
      attempt: ref.attempt,
      progress: p.progress,
      message: p.message ?? null,
      partialOutput: enc(p.partialOutput),
    });
    return result.changes > 0;
  }

  async appendLogs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    this.db.transaction(() => {
      for (const l of lines) this.stmt.insertLog.run(ref.id, ref.attempt, l.stream, l.text, l.at);
    })();
  }

  async getLogs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<TaskLogLine[]> {
    const rows = this.db
      .prepare(
        `SELECT l.seq, l.attempt, l.stream, l.text, l.at FROM task_logs l JOIN tasks t ON t.id = l.task_id
         WHERE l.task_id = ? AND t.tenant_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`,
      )
      .all(taskId, tenantId, afterSeq, limit) as TaskLogLine[];
    return rows;
  }

  async completeTask(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number, next?: ClaimRequest): Promise<CompleteResult> {
    return this.db.transaction((): CompleteResult => ({ ...this.completeIn(ref, outcome, retryBaseMs), claimed: next ? this.claimIn(next) : [] })).immediate();
  }

  /** Records the end of an attempt; runs inside the caller's transaction. */
  private completeIn(ref: TaskRef, outcome: AttemptOutcome, retryBaseMs: number): Omit<CompleteResult, 'claimed'> {
    const row = this.stmt.taskById.get(ref.id) as Row | undefined;
    if (!row) return { accepted: false, task: null };
    const task = toTask(row);
    if (task.attempt !== ref.attempt || !(LEASED_TASK_STATUSES as readonly string[]).includes(task.status)) return { accepted: false, task };
    const now = this.clock.now();
    const decision = decideCompletion(task.status, outcome, task.attempt - task.lostAttempts, task.maxAttempts, retryBaseMs);
    const updated =
      decision.kind === 'retry'
        ? (this.stmt.requeue.get({ id: task.id, lost: 0, runAt: now + decision.delayMs, error: enc(outcome.error) }) as Row)
        : (this.stmt.finish.get({
            id: task.id,
            status: decision.status,
            output: decision.status === 'SUCCEEDED' ? enc(outcome.output) : null,
            error: decision.status === 'SUCCEEDED' ? null : enc(decision.status === 'CANCELLED' ? cancelledError('CANCELLED') : outcome.error),
            now,
          }) as Row);
    return { accepted: true, task: toTask(updated) };
  }

  async requestCancel(tenantId: string, taskId: string): Promise<{ task: TaskRecord; previous: TaskStatus } | null> {
    return this.db.transaction((): { task: TaskRecord; previous: TaskStatus } | null => {
      const row = this.stmt.taskById.get(taskId) as Row | undefined;
      if (!row || row.tenant_id !== tenantId) return null;
      const task = toTask(row);
      const error = enc({ code: 'CANCELLED', message: 'cancelled by request' });
      const previous = task.status;
      if (previous === 'QUEUED') {
        return { previous, task: toTask(this.stmt.finish.get({ id: taskId, status: 'CANCELLED', output: null, error, now: this.clock.now() }) as Row) };
      }
      if (previous === 'RUNNING') {
        return { previous, task: toTask(this.sql("UPDATE tasks SET status = 'CANCELLING', error = ? WHERE id = ? RETURNING *").get(error, taskId) as Row) };
      }
      return { previous, task };
    }).immediate();
  }

  async reclaimExpiredLeases(limit: number): Promise<ReclaimedTask[]> {
    return this.db.transaction(() => {
      const now = this.clock.now();
      const rows = this.sql(`SELECT * FROM tasks WHERE status IN ${LEASED} AND lease_expires_at < ? LIMIT ?`).all(now, limit) as Row[];
      return rows.map((r) => this.reclaim(toTask(r), { code: 'LEASE_EXPIRED', message: 'the agent running this attempt stopped renewing its lease' }, now));
    }).immediate();
  }

  async releaseInstanceTasks(instanceIds: string[], how: 'requeue' | 'cancel'): Promise<ReclaimedTask[]> {
    if (instanceIds.length === 0) return [];
    return this.db.transaction(() => {
      const now = this.clock.now();
      const rows = this.db
        .prepare(`SELECT * FROM tasks WHERE status IN ${LEASED} AND instance_id IN (${placeholders(instanceIds.length)})`)
        .all(...instanceIds) as Row[];
      return rows.map((r) => {
        const task = toTask(r);
        if (how === 'requeue') return this.reclaim(task, { code: 'INSTANCE_STOPPED', message: 'its instance was stopped; running again' }, now);
        const error = enc({ code: 'CANCELLED', message: 'its instance was stopped by an undeploy' });
        const cancelled = toTask(this.stmt.finish.get({ id: task.id, status: 'CANCELLED', output: null, error, now }) as Row);
        return { task: cancelled, status: 'CANCELLED' as const, taken: { attempt: task.attempt, instanceId: task.instanceId } };
      });
    }).immediate();
  }

  /** Takes a leased task back from a holder that is gone; runs inside the caller's transaction. */
  private reclaim(task: TaskRecord, error: TaskError, now: number): ReclaimedTask {
    const next = decideReclaim(task.status, task.lostAttempts, LIMITS.extraAttemptsForLostLeases);
    const row =
      next === 'QUEUED'
        ? (this.stmt.requeue.get({ id: task.id, lost: 1, runAt: now, error: enc(error) }) as Row)
        : (this.stmt.finish.get({ id: task.id, status: next, output: null, error: enc(next === 'CANCELLED' ? cancelledError(next) : error), now }) as Row);
    return { task: toTask(row), status: next, taken: { attempt: task.attempt, instanceId: task.instanceId } };
  }

  async expireQueuedTasks(limit: number): Promise<TaskRecord[]> {
    const now = this.clock.now();
    const error = enc({ code: 'EXPIRED', message: 'queued longer than the version allows (maxQueuedSeconds)' });
    const rows = this.db
      .prepare(
        `UPDATE tasks SET status = 'EXPIRED', finished_at = ?, error = ?
         WHERE seq IN (SELECT seq FROM tasks WHERE status = 'QUEUED' AND expires_at <= ? LIMIT ?) RETURNING *`,
      )
      .all(now, error, now, limit) as Row[];
    return rows.map(toTask);
  }

  async queueCounts(scope: { tenantId?: string; functionId?: string; versionId?: string }): Promise<QueueCounts> {
    const w = where(cmp('version_id', '=', scope.versionId), cmp('function_id', '=', scope.functionId), cmp('tenant_id', '=', scope.tenantId));
    const rows = this.sql(`SELECT status, count(*) AS n FROM tasks ${w.sql} GROUP BY status`).all(...w.args) as { status: TaskStatus; n: number }[];
    const byStatus: QueueCounts['byStatus'] = {};
    for (const r of rows) byStatus[r.status] = r.n;
    return { queued: byStatus.QUEUED ?? 0, running: (byStatus.RUNNING ?? 0) + (byStatus.CANCELLING ?? 0), byStatus };
  }

  async versionLoad(versionId: string): Promise<{ queued: number; running: number }> {
    // The queued count sums the version's queue blocks; the leased one reads a partial index of leased rows.
    const queued = this.stmt.queuedCount.pluck().get(versionId) as number;
    const running = this.stmt.leasedCount.pluck().get(versionId) as number;
    return { queued, running };
  }

  async nextRunAt(versionId: string): Promise<number | null> {
    return (this.sql("SELECT min(run_at) FROM tasks WHERE version_id = ? AND status = 'QUEUED'").pluck().get(versionId) as number | null) ?? null;
  }
}

function cancelledError(status: TaskStatus): TaskError | null {
  return status === 'CANCELLED' ? { code: 'CANCELLED', message: 'cancelled by request' } : null;
}

function pageOf<T>(items: T[], limit: number, key: (item: T) => string | number): Page<T> {
  const more = items.length > limit;
  const kept = items.slice(0, limit);
  return { items: kept, nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null };
}
