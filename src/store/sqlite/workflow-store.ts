import { workflowExists, workflowRunning } from '../../core/errors.js';
import type { Page, TaskRecord } from '../../core/types.js';
import type { ExecutionRecord, ExecutionTask, ExecutionTimer, HistoryEntry, NewHistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../../core/workflows/workflow.js';
import { decodeCursor } from '../cursor.js';
import { type PageRequest, pageOf } from '../paging.js';
import { encodeJson, toExecution, toExecutionTask, toHistoryEntry, toWorkflow, toWorkflowVersion } from '../rows.js';
import type { ExecutionFilter, StepWrite, WorkflowStore } from '../workflow-store.js';
import type { Row, SqliteConnection } from './connection.js';
import { insertTask } from './task-transitions.js';
import { cmp, isIn, placeholders, where } from './where.js';

export class SqliteWorkflowStore implements WorkflowStore {
  constructor(private readonly conn: SqliteConnection) {}

  async createWorkflow(w: WorkflowRecord, v: WorkflowVersionRecord): Promise<void> {
    await this.conn.immediate(() => {
      if (this.conn.sql('SELECT 1 FROM workflows WHERE tenant_id = ? AND name = ?').get(w.tenantId, w.name)) throw workflowExists(w.name);
      this.conn
        .sql('INSERT INTO workflows (id, tenant_id, name, description, latest_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(w.id, w.tenantId, w.name, w.description, w.latestVersion, w.createdAt, w.updatedAt);
      this.insertVersion(v);
    });
  }

  private insertVersion(v: WorkflowVersionRecord): void {
    this.conn
      .sql('INSERT INTO workflow_versions (id, tenant_id, workflow_id, number, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(v.id, v.tenantId, v.workflowId, v.number, JSON.stringify(v.definition), v.createdAt);
  }

  async addWorkflowVersion(v: Omit<WorkflowVersionRecord, 'number'>): Promise<WorkflowVersionRecord | null> {
    return this.conn.immediate(() => {
      const row = this.conn
        .sql('UPDATE workflows SET latest_version = latest_version + 1, updated_at = ? WHERE id = ? AND tenant_id = ? RETURNING latest_version')
        .get(v.createdAt, v.workflowId, v.tenantId) as Row | undefined;
      if (!row) return null;
      const version = { ...v, number: Number(row.latest_version) };
      this.insertVersion(version);
      return version;
    });
  }

  async getWorkflow(tenantId: string, idOrName: string): Promise<WorkflowRecord | null> {
    const row = this.conn.sql('SELECT * FROM workflows WHERE tenant_id = ? AND (id = ? OR name = ?)').get(tenantId, idOrName, idOrName) as Row | undefined;
    return row ? toWorkflow(row) : null;
  }

  async listWorkflows(tenantId: string, page: PageRequest): Promise<Page<WorkflowRecord>> {
    const after = decodeCursor<number>(page.cursor, 'number') ?? 0;
    const rows = this.conn.sql('SELECT * FROM workflows WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(tenantId, after, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toWorkflow, 'seq');
  }

  async deleteWorkflow(tenantId: string, workflowId: string): Promise<boolean> {
    return this.conn.immediate(() => {
      if (!this.conn.sql('SELECT 1 FROM workflows WHERE id = ? AND tenant_id = ?').get(workflowId, tenantId)) return false;
      if (this.conn.sql("SELECT 1 FROM executions WHERE workflow_id = ? AND status = 'RUNNING'").get(workflowId)) throw workflowRunning();
      const byWorkflow = 'execution_id IN (SELECT id FROM executions WHERE workflow_id = ?)';
      for (const table of ['execution_tasks', 'execution_timers', 'execution_history', 'execution_item_pages', 'execution_results']) this.conn.sql(`DELETE FROM ${table} WHERE ${byWorkflow}`).run(workflowId);
      this.conn.sql('DELETE FROM executions WHERE workflow_id = ?').run(workflowId);
      this.conn.sql('DELETE FROM workflow_versions WHERE workflow_id = ?').run(workflowId);
      this.conn.sql('DELETE FROM workflows WHERE id = ?').run(workflowId);
      return true;
    });
  }

  async getWorkflowVersion(tenantId: string, workflowId: string, version: { id: string } | { number: number }): Promise<WorkflowVersionRecord | null> {
    const row = ('id' in version
      ? this.conn.sql('SELECT * FROM workflow_versions WHERE tenant_id = ? AND workflow_id = ? AND id = ?').get(tenantId, workflowId, version.id)
      : this.conn.sql('SELECT * FROM workflow_versions WHERE tenant_id = ? AND workflow_id = ? AND number = ?').get(tenantId, workflowId, version.number)) as Row | undefined;
    return row ? toWorkflowVersion(row) : null;
  }

  async listWorkflowVersions(tenantId: string, workflowId: string): Promise<WorkflowVersionRecord[]> {
    const rows = this.conn.sql('SELECT * FROM workflow_versions WHERE tenant_id = ? AND workflow_id = ? ORDER BY number DESC').all(tenantId, workflowId) as Row[];
    return rows.map(toWorkflowVersion);
  }

  async createExecution(e: ExecutionRecord, step: StepWrite): Promise<{ created: true; tasks: TaskRecord[] } | { created: false; execution: ExecutionRecord }> {
    return this.conn.immediate(() => {
      const earlier = e.idempotencyKey === null ? null : this.byKey(e.tenantId, e.idempotencyKey);
      if (earlier) return { created: false as const, execution: earlier };
      this.conn
        .sql(`INSERT INTO executions (id, tenant_id, workflow_id, version_id, status, input, output, error, state, rev, idempotency_key, request_hash, steps_done, timeout_at, created_at, updated_at, ended_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(e.id, e.tenantId, e.workflowId, e.versionId, e.status, JSON.stringify(e.input ?? null), null, null, '{}', e.rev, e.idempotencyKey, e.requestHash, 0, e.timeoutAt, e.createdAt, e.updatedAt, null);
      return { created: true as const, tasks: this.applyStep(e.id, e.rev, step) };
    });
  }

  async getExecution(tenantId: string, executionId: string): Promise<ExecutionRecord | null> {
    const row = this.conn.sql('SELECT * FROM executions WHERE id = ? AND tenant_id = ?').get(executionId, tenantId) as Row | undefined;
    return row ? toExecution(row) : null;
  }

  async executionByKey(tenantId: string, idempotencyKey: string): Promise<ExecutionRecord | null> {
    return this.byKey(tenantId, idempotencyKey);
  }

  private byKey(tenantId: string, idempotencyKey: string): ExecutionRecord | null {
    const row = this.conn.sql('SELECT * FROM executions WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, idempotencyKey) as Row | undefined;
    return row ? toExecution(row) : null;
  }

  async executionById(executionId: string): Promise<ExecutionRecord | null> {
    const row = this.conn.sql('SELECT * FROM executions WHERE id = ?').get(executionId) as Row | undefined;
    return row ? toExecution(row) : null;
  }

  async listExecutions(tenantId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionRecord>> {
    const before = decodeCursor<number>(page.cursor, 'number');
    const w = where(cmp('tenant_id', '=', tenantId), cmp('workflow_id', '=', filter.workflowId), isIn('status', filter.statuses), cmp('seq', '<', before));
    const rows = this.conn.sql(`SELECT * FROM executions ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toExecution, 'seq');
  }

  async saveStep(executionId: string, rev: number, step: StepWrite): Promise<{ saved: false } | { saved: true; tasks: TaskRecord[] }> {
    return this.conn.immediate(() => {
      const current = this.conn.sql('SELECT rev FROM executions WHERE id = ?').pluck().get(executionId) as number | undefined;
      if (current !== rev) return { saved: false as const };
      return { saved: true as const, tasks: this.applyStep(executionId, rev, step) };
    });
  }

  /** Inside a transaction that has checked `rev`: the step's tasks, timers, history, and the execution as it is now. */
  private applyStep(executionId: string, rev: number, step: StepWrite): TaskRecord[] {
    const started: TaskRecord[] = [];
    for (const t of step.tasks) {
      if (this.conn.sql('SELECT 1 FROM execution_tasks WHERE execution_id = ? AND key = ?').get(executionId, t.key)) continue;
      insertTask(this.conn, t.task.task, t.task.requestHash);
      this.conn.sql('INSERT INTO execution_tasks (execution_id, key, state, task_id, created_at) VALUES (?, ?, ?, ?, ?)').run(executionId, t.key, t.state, t.task.task.id, t.task.task.createdAt);
      started.push(t.task.task);
    }
    for (const key of step.firedTimers) this.conn.sql('DELETE FROM execution_timers WHERE execution_id = ? AND key = ?').run(executionId, key);
    if (step.execution.status === 'RUNNING') {
      for (const t of step.timers) this.conn.sql('INSERT OR REPLACE INTO execution_timers (execution_id, key, at) VALUES (?, ?, ?)').run(executionId, t.key, t.at);
      const keep = this.conn.sql('INSERT OR REPLACE INTO execution_results (execution_id, key, idx, value) VALUES (?, ?, ?, ?)');
      for (const r of step.results) keep.run(executionId, r.key, r.index, JSON.stringify(r.value ?? null));
    } else {
      for (const table of ['execution_timers', 'execution_item_pages', 'execution_results']) this.conn.sql(`DELETE FROM ${table} WHERE execution_id = ?`).run(executionId);
    }
    this.insertHistory(executionId, step.history);
    const x = step.execution;
    this.conn
      .sql('UPDATE executions SET status = ?, state = ?, output = ?, error = ?, steps_done = ?, updated_at = ?, ended_at = ?, rev = ? WHERE id = ?')
      .run(x.status, JSON.stringify(x.state), encodeJson(x.output), encodeJson(x.error), x.stepsDone, x.updatedAt, x.endedAt, rev + 1, executionId);
    return started;
  }

  private insertHistory(executionId: string, entries: NewHistoryEntry[]): void {
    const insert = this.conn.sql('INSERT OR IGNORE INTO execution_history (execution_id, at, type, key, state, task_id, detail, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const h of entries) insert.run(executionId, h.at, h.type, h.key, h.state, h.taskId, encodeJson(h.detail), h.eventId);
  }

  async appendHistory(executionId: string, entries: NewHistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.conn.immediate(() => this.insertHistory(executionId, entries));
  }

  async executionTasksOf(taskIds: string[]): Promise<ExecutionTask[]> {
    if (taskIds.length === 0) return [];
    const rows = this.conn.sql(`SELECT * FROM execution_tasks WHERE task_id IN (${placeholders(taskIds.length)})`).all(...taskIds) as Row[];
    return rows.map(toExecutionTask);
  }

  async executionTasks(executionId: string, keys: string[]): Promise<ExecutionTask[]> {
    if (keys.length === 0) return [];
    const rows = this.conn.sql(`SELECT * FROM execution_tasks WHERE execution_id = ? AND key IN (${placeholders(keys.length)})`).all(executionId, ...keys) as Row[];
    return rows.map(toExecutionTask);
  }

  async listExecutionTasks(executionId: string, filter: { state?: string }, page: PageRequest): Promise<Page<ExecutionTask>> {
    const w = where(cmp('execution_id', '=', executionId), cmp('state', '=', filter.state), cmp('seq', '>', decodeCursor<number>(page.cursor, 'number')));
    const rows = this.conn.sql(`SELECT * FROM execution_tasks ${w.sql} ORDER BY seq LIMIT ?`).all(...w.args, page.limit + 1) as Row[];
    return pageOf(rows, page.limit, toExecutionTask, 'seq');
  }

  async unfinishedTasksOfEndedExecutions(limit: number): Promise<{ tenantId: string; taskId: string }[]> {
    const rows = this.conn
      .sql(`SELECT e.tenant_id, t.id FROM executions e JOIN execution_tasks et ON et.execution_id = e.id JOIN tasks t ON t.id = et.task_id
        WHERE e.status != 'RUNNING' AND t.status IN ('QUEUED', 'RUNNING') LIMIT ?`)
      .all(limit) as Row[];
    return rows.map((r) => ({ tenantId: r.tenant_id as string, taskId: r.id as string }));
  }

  async dueTimers(now: number, limit: number): Promise<ExecutionTimer[]> {
    const rows = this.conn.sql('SELECT * FROM execution_timers WHERE at <= ? ORDER BY at LIMIT ?').all(now, limit) as Row[];
    return rows.map((r) => ({ executionId: r.execution_id as string, key: r.key as string, at: Number(r.at) }));
  }

  async nextTimerAt(): Promise<number | null> {
    const at = this.conn.sql('SELECT min(at) FROM execution_timers').pluck().get() as number | null;
    return at === null ? null : Number(at);
  }

  async putItemPages(executionId: string, key: string, pages: { page: number; items: unknown[] }[]): Promise<void> {
    await this.conn.immediate(() => {
      const put = this.conn.sql('INSERT OR REPLACE INTO execution_item_pages (execution_id, key, page, items) VALUES (?, ?, ?, ?)');
      for (const p of pages) put.run(executionId, key, p.page, JSON.stringify(p.items));
    });
  }

  async itemPage(executionId: string, key: string, page: number): Promise<unknown[] | null> {
    const items = this.conn.sql('SELECT items FROM execution_item_pages WHERE execution_id = ? AND key = ? AND page = ?').pluck().get(executionId, key, page) as string | undefined;
    return items === undefined ? null : (JSON.parse(items) as unknown[]);
  }

  async mapResults(executionId: string, key: string, afterIndex: number, limit: number): Promise<{ index: number; value: unknown }[]> {
    const rows = this.conn.sql('SELECT idx, value FROM execution_results WHERE execution_id = ? AND key = ? AND idx > ? ORDER BY idx LIMIT ?').all(executionId, key, afterIndex, limit) as Row[];
    return rows.map((r) => ({ index: Number(r.idx), value: JSON.parse(r.value as string) }));
  }

  async history(executionId: string, afterSeq: number, limit: number): Promise<HistoryEntry[]> {
    const rows = this.conn.sql('SELECT * FROM execution_history WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(executionId, afterSeq, limit) as Row[];
    return rows.map(toHistoryEntry);
  }
}
