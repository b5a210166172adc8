import { workflowExists, workflowRunning } from '../../core/errors.js';
import type { Page, TaskRecord } from '../../core/types.js';
import type { ExecutionRecord, ExecutionTask, ExecutionTimer, HistoryEntry, NewHistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../../core/workflows/workflow.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { encodeJson, toExecution, toExecutionTask, toHistoryEntry, toWorkflow, toWorkflowVersion } from '../rows.js';
import type { ExecutionFilter, StepWrite, WorkflowStore } from '../workflow-store.js';
import type { PgConnection, Sql } from './connection.js';
import { isUniqueViolation } from './store-errors.js';
import { insertTasks } from './task-queue.js';
import { cmp, isIn, where } from './where.js';

const NAME_TAKEN = 'workflows_name_unique';
const KEY_TAKEN = 'executions_by_key';

/**
 * Lock order: a step locks its execution's row first (the revision check), then writes the rows
 * that belong to it; nothing else locks an execution, so two steps of one execution queue on its
 * row and the second finds the revision moved.
 */
export class PgWorkflowStore implements WorkflowStore {
  constructor(private readonly conn: PgConnection) {}

  async createWorkflow(w: WorkflowRecord, v: WorkflowVersionRecord): Promise<void> {
    try {
      await this.conn.tx(async (sql) => {
        await sql.run('INSERT INTO workflows (id, tenant_id, name, description, latest_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          w.id, w.tenantId, w.name, w.description, w.latestVersion, w.createdAt, w.updatedAt,
        ]);
        await insertVersion(sql, v);
      });
    } catch (err) {
      throw isUniqueViolation(err, NAME_TAKEN) ? workflowExists(w.name) : err;
    }
  }

  async addWorkflowVersion(v: Omit<WorkflowVersionRecord, 'number'>): Promise<WorkflowVersionRecord | null> {
    return this.conn.tx(async (sql) => {
      const row = await sql.one<{ latest_version: number }>(
        'UPDATE workflows SET latest_version = latest_version + 1, updated_at = $3 WHERE id = $1 AND tenant_id = $2 RETURNING latest_version',
        [v.workflowId, v.tenantId, v.createdAt],
      );
      if (!row) return null;
      const version = { ...v, number: Number(row.latest_version) };
      await insertVersion(sql, version);
      return version;
    });
  }

  async getWorkflow(tenantId: string, idOrName: string): Promise<WorkflowRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM workflows WHERE tenant_id = $1 AND (id = $2 OR name = $2)', [tenantId, idOrName]);
    return row ? toWorkflow(row) : null;
  }

  async listWorkflows(tenantId: string, page: PageRequest): Promise<Page<WorkflowRecord>> {
    const after = decodeCursor<number>(page.cursor, 'number') ?? 0;
    const rows = await this.conn.sql.rows('SELECT * FROM workflows WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [tenantId, after, page.limit + 1]);
    return pageOf(rows, page.limit, toWorkflow, 'seq');
  }

  async deleteWorkflow(tenantId: string, workflowId: string): Promise<boolean> {
    return this.conn.tx(async (sql) => {
      if (!(await sql.one('SELECT 1 FROM workflows WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [workflowId, tenantId]))) return false;
      if (await sql.one("SELECT 1 FROM executions WHERE workflow_id = $1 AND status = 'RUNNING' LIMIT 1", [workflowId])) throw workflowRunning();
      const byWorkflow = 'execution_id IN (SELECT id FROM executions WHERE workflow_id = $1)';
      for (const table of ['execution_tasks', 'execution_timers', 'execution_history', 'execution_item_pages', 'execution_results']) await sql.run(`DELETE FROM ${table} WHERE ${byWorkflow}`, [workflowId]);
      await sql.run('DELETE FROM executions WHERE workflow_id = $1', [workflowId]);
      await sql.run('DELETE FROM workflow_versions WHERE workflow_id = $1', [workflowId]);
      await sql.run('DELETE FROM workflows WHERE id = $1', [workflowId]);
      return true;
    });
  }

  async getWorkflowVersion(tenantId: string, workflowId: string, version: { id: string } | { number: number }): Promise<WorkflowVersionRecord | null> {
    const [column, value] = 'id' in version ? ['id', version.id] : ['number', version.number];
    const row = await this.conn.sql.one(`SELECT * FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 AND ${column} = $3`, [tenantId, workflowId, value]);
    return row ? toWorkflowVersion(row) : null;
  }

  async listWorkflowVersions(tenantId: string, workflowId: string): Promise<WorkflowVersionRecord[]> {
    const rows = await this.conn.sql.rows('SELECT * FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY number DESC', [tenantId, workflowId]);
    return rows.map(toWorkflowVersion);
  }

  async createExecution(e: ExecutionRecord, step: StepWrite): Promise<{ created: true; tasks: TaskRecord[] } | { created: false; execution: ExecutionRecord }> {
    try {
      return await this.conn.tx(async (sql) => {
        await sql.run(
          `INSERT INTO executions (id, tenant_id, workflow_id, version_id, status, input, state, rev, idempotency_key, request_hash, steps_done, timeout_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, '{}', $7, $8, $9, 0, $10, $11, $12)`,
          [e.id, e.tenantId, e.workflowId, e.versionId, e.status, JSON.stringify(e.input ?? null), e.rev, e.idempotencyKey, e.requestHash, e.timeoutAt, e.createdAt, e.updatedAt],
        );
        return { created: true as const, tasks: await applyStep(sql, e.id, e.rev, step) };
      });
    } catch (err) {
      if (!isUniqueViolation(err, KEY_TAKEN)) throw err;
      return { created: false, execution: (await this.executionByKey(e.tenantId, e.idempotencyKey!))! };
    }
  }

  async getExecution(tenantId: string, executionId: string): Promise<ExecutionRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM executions WHERE id = $1 AND tenant_id = $2', [executionId, tenantId]);
    return row ? toExecution(row) : null;
  }

  async executionByKey(tenantId: string, idempotencyKey: string): Promise<ExecutionRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM executions WHERE tenant_id = $1 AND idempotency_key = $2', [tenantId, idempotencyKey]);
    return row ? toExecution(row) : null;
  }

  async executionById(executionId: string): Promise<ExecutionRecord | null> {
    const row = await this.conn.sql.one('SELECT * FROM executions WHERE id = $1', [executionId]);
    return row ? toExecution(row) : null;
  }

  async listExecutions(tenantId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where([cmp('tenant_id', '=', tenantId), cmp('workflow_id', '=', filter.workflowId), isIn('status', filter.statuses), cmp('seq', '<', before)]);
    const rows = await this.conn.sql.rows(`SELECT * FROM executions ${w.sql} ORDER BY seq DESC LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toExecution, 'seq');
  }

  async saveStep(executionId: string, rev: number, step: StepWrite): Promise<{ saved: false } | { saved: true; tasks: TaskRecord[] }> {
    return this.conn.tx(async (sql) => {
      if (!(await sql.one('SELECT 1 FROM executions WHERE id = $1 AND rev = $2 FOR UPDATE', [executionId, rev]))) return { saved: false as const };
      return { saved: true as const, tasks: await applyStep(sql, executionId, rev, step) };
    });
  }

  async appendHistory(executionId: string, entries: NewHistoryEntry[]): Promise<void> {
    await insertHistory(this.conn.sql, executionId, entries);
  }

  async executionTasksOf(taskIds: string[]): Promise<ExecutionTask[]> {
    if (taskIds.length === 0) return [];
    return (await this.conn.sql.rows('SELECT * FROM execution_tasks WHERE task_id = ANY($1::text[])', [taskIds])).map(toExecutionTask);
  }

  async executionTasks(executionId: string, keys: string[]): Promise<ExecutionTask[]> {
    return (await this.conn.sql.rows('SELECT * FROM execution_tasks WHERE execution_id = $1 AND key = ANY($2::text[])', [executionId, keys])).map(toExecutionTask);
  }

  async listExecutionTasks(executionId: string, filter: { state?: string }, page: PageRequest): Promise<Page<ExecutionTask>> {
    const w = where([cmp('execution_id', '=', executionId), cmp('state', '=', filter.state), cmp('seq', '>', decodeCursor<number>(page.cursor, 'number'))]);
    const rows = await this.conn.sql.rows(`SELECT * FROM execution_tasks ${w.sql} ORDER BY seq LIMIT $${w.args.length + 1}`, [...w.args, page.limit + 1]);
    return pageOf(rows, page.limit, toExecutionTask, 'seq');
  }

  async unfinishedTasksOfEndedExecutions(limit: number): Promise<{ tenantId: string; taskId: string }[]> {
    const rows = await this.conn.sql.rows<{ tenant_id: string; id: string }>(
      `SELECT e.tenant_id, t.id FROM executions e JOIN execution_tasks et ON et.execution_id = e.id JOIN tasks t ON t.id = et.task_id
        WHERE e.status != 'RUNNING' AND t.status IN ('QUEUED', 'RUNNING') LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, taskId: r.id }));
  }

  async dueTimers(now: number, limit: number): Promise<ExecutionTimer[]> {
    const rows = await this.conn.sql.rows('SELECT * FROM execution_timers WHERE at <= $1 ORDER BY at LIMIT $2', [now, limit]);
    return rows.map((r) => ({ executionId: r.execution_id as string, key: r.key as string, at: Number(r.at) }));
  }

  async nextTimerAt(): Promise<number | null> {
    const row = await this.conn.sql.one<{ at: string | null }>('SELECT min(at) AS at FROM execution_timers');
    return row?.at == null ? null : Number(row.at);
  }

  async putItemPages(executionId: string, key: string, pages: { page: number; items: unknown[] }[]): Promise<void> {
    if (pages.length === 0) return;
    await this.conn.sql.run(
      `INSERT INTO execution_item_pages (execution_id, key, page, items) SELECT $1, $2, page, items FROM unnest($3::int[], $4::text[]) AS p(page, items)
        ON CONFLICT (execution_id, key, page) DO UPDATE SET items = EXCLUDED.items`,
      [executionId, key, pages.map((p) => p.page), pages.map((p) => JSON.stringify(p.items))],
    );
  }

  async itemPage(executionId: string, key: string, page: number): Promise<unknown[] | null> {
    const row = await this.conn.sql.one<{ items: string }>('SELECT items FROM execution_item_pages WHERE execution_id = $1 AND key = $2 AND page = $3', [executionId, key, page]);
    return row ? (JSON.parse(row.items) as unknown[]) : null;
  }

  async mapResults(executionId: string, key: string, afterIndex: number, limit: number): Promise<{ index: number; value: unknown }[]> {
    const rows = await this.conn.sql.rows<{ idx: number; value: string }>('SELECT idx, value FROM execution_results WHERE execution_id = $1 AND key = $2 AND idx > $3 ORDER BY idx LIMIT $4', [executionId, key, afterIndex, limit]);
    return rows.map((r) => ({ index: Number(r.idx), value: JSON.parse(r.value) }));
  }

  async history(executionId: string, afterSeq: number, limit: number): Promise<HistoryEntry[]> {
    const rows = await this.conn.sql.rows('SELECT * FROM execution_history WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [executionId, afterSeq, limit]);
    return rows.map(toHistoryEntry);
  }
}

function insertVersion(sql: Sql, v: WorkflowVersionRecord): Promise<number> {
  return sql.run('INSERT INTO workflow_versions (id, tenant_id, workflow_id, number, definition, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    v.id, v.tenantId, v.workflowId, v.number, JSON.stringify(v.definition), v.createdAt,
  ]);
}

/** Inside a transaction holding the execution's row at `rev`: the step's tasks (those of keys not yet started), timers, history, and the execution as it is now. */
async function applyStep(sql: Sql, executionId: string, rev: number, step: StepWrite): Promise<TaskRecord[]> {
  let started: TaskRecord[] = [];
  if (step.tasks.length > 0) {
    const fresh = await sql.rows<{ key: string }>(
      `INSERT INTO execution_tasks (execution_id, key, state, task_id, created_at)
        SELECT $1, key, state, task_id, created_at FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(key, state, task_id, created_at)
        ON CONFLICT DO NOTHING RETURNING key`,
      [executionId, step.tasks.map((t) => t.key), step.tasks.map((t) => t.state), step.tasks.map((t) => t.task.task.id), step.tasks.map((t) => t.task.task.createdAt)],
    );
    const keys = new Set(fresh.map((r) => r.key));
    const newTasks = step.tasks.filter((t) => keys.has(t.key)).map((t) => t.task);
    await insertTasks(sql, newTasks);
    started = newTasks.map((n) => n.task);
  }
  if (step.firedTimers.length > 0) await sql.run('DELETE FROM execution_timers WHERE execution_id = $1 AND key = ANY($2::text[])', [executionId, step.firedTimers]);
  if (step.execution.status !== 'RUNNING') {
    for (const table of ['execution_timers', 'execution_item_pages', 'execution_results']) await sql.run(`DELETE FROM ${table} WHERE execution_id = $1`, [executionId]);
  } else {
    if (step.timers.length > 0) {
      await sql.run(
        `INSERT INTO execution_timers (execution_id, key, at) SELECT $1, key, at FROM unnest($2::text[], $3::bigint[]) AS t(key, at)
          ON CONFLICT (execution_id, key) DO UPDATE SET at = EXCLUDED.at`,
        [executionId, step.timers.map((t) => t.key), step.timers.map((t) => t.at)],
      );
    }
    if (step.results.length > 0) {
      await sql.run(
        `INSERT INTO execution_results (execution_id, key, idx, value) SELECT $1, key, idx, value FROM unnest($2::text[], $3::int[], $4::text[]) AS r(key, idx, value)
          ON CONFLICT (execution_id, key, idx) DO UPDATE SET value = EXCLUDED.value`,
        [executionId, step.results.map((r) => r.key), step.results.map((r) => r.index), step.results.map((r) => JSON.stringify(r.value ?? null))],
      );
    }
  }
  await insertHistory(sql, executionId, step.history);
  const x = step.execution;
  await sql.run('UPDATE executions SET status = $2, state = $3, output = $4, error = $5, steps_done = $6, updated_at = $7, ended_at = $8, rev = $9 WHERE id = $1', [
    executionId, x.status, JSON.stringify(x.state), encodeJson(x.output), encodeJson(x.error), x.stepsDone, x.updatedAt, x.endedAt, rev + 1,
  ]);
  return started;
}

async function insertHistory(sql: Sql, executionId: string, entries: NewHistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await sql.run(
    `INSERT INTO execution_history (execution_id, at, type, key, state, task_id, detail, event_id)
      SELECT $1, at, type, key, state, task_id, detail, event_id
      FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS h(at, type, key, state, task_id, detail, event_id, n)
      ORDER BY n ON CONFLICT DO NOTHING`,
    [
      executionId,
      entries.map((h) => h.at),
      entries.map((h) => h.type),
      entries.map((h) => h.key),
      entries.map((h) => h.state),
      entries.map((h) => h.taskId),
      entries.map((h) => encodeJson(h.detail)),
      entries.map((h) => h.eventId),
    ],
  );
}
