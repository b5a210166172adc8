import { expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { StateMachine } from '../core/workflows/definition.js';
import type { ExecutionRecord, NewHistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../core/workflows/workflow.js';
import type { ContractFixture } from './fixture.contract.js';
import type { StepWrite } from './workflow-store.js';

/** The WorkflowStore slice's part of the store contract (store.contract.ts runs it on every adapter). */
export function workflowStoreContract(fx: ContractFixture): void {
  const definition: StateMachine = { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'echo', End: true } } };
  const workflowOf = (name: string, tenantId = fx.tenantId): [WorkflowRecord, WorkflowVersionRecord] => {
    const now = fx.clock.now();
    const w = { id: newId('wf'), tenantId, name, description: '', latestVersion: 1, createdAt: now, updatedAt: now };
    return [w, { id: newId('wfv'), tenantId, workflowId: w.id, number: 1, definition, createdAt: now }];
  };
  const executionOf = (w: WorkflowRecord, over: Partial<ExecutionRecord> = {}): ExecutionRecord => {
    const now = fx.clock.now();
    return {
      id: newId('exe'),
      tenantId: w.tenantId,
      workflowId: w.id,
      versionId: 'wfv_x',
      status: 'RUNNING',
      input: { n: 1 },
      output: null,
      error: null,
      state: { status: 'RUNNING', root: { id: 'x', machine: [], visits: 0, step: null } },
      rev: 0,
      idempotencyKey: null,
      requestHash: null,
      stepsDone: 0,
      timeoutAt: null,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
      ...over,
    };
  };
  const entry = (type: NewHistoryEntry['type'], over: Partial<NewHistoryEntry> = {}): NewHistoryEntry => ({ at: fx.clock.now(), type, key: null, state: null, taskId: null, detail: null, eventId: null, ...over });
  const stepOf = (over: Partial<StepWrite> = {}, status: ExecutionRecord['status'] = 'RUNNING'): StepWrite => ({
    execution: { status, state: { status, root: { id: 'x', machine: [], visits: 1, step: null } }, output: status === 'SUCCEEDED' ? { ok: true } : null, error: null, stepsDone: 1, updatedAt: fx.clock.now(), endedAt: status === 'RUNNING' ? null : fx.clock.now() },
    tasks: [],
    timers: [],
    results: [],
    firedTimers: [],
    history: [],
    ...over,
  });
  const taskFor = (e: ExecutionRecord, key: string) => ({ key, state: 'A', task: { task: fx.taskOf({ idempotencyKey: `wf:${e.id}:${key}` }), requestHash: null } });

  it('keeps workflows to their tenant under unique names, numbers their versions and finds them by id or name', async () => {
    const [a, a1] = workflowOf('pipeline');
    await fx.store.workflows.createWorkflow(a, a1);
    await fx.store.workflows.createWorkflow(...workflowOf('pipeline', fx.otherTenant));
    await expect(fx.store.workflows.createWorkflow(...workflowOf('pipeline'))).rejects.toMatchObject({ code: 'WORKFLOW_EXISTS' });
    const a2 = await fx.store.workflows.addWorkflowVersion({ id: newId('wfv'), tenantId: fx.tenantId, workflowId: a.id, definition: { ...definition, Comment: 'two' }, createdAt: fx.clock.now() });
    expect(a2?.number).toBe(2);
    expect(await fx.store.workflows.addWorkflowVersion({ id: newId('wfv'), tenantId: fx.otherTenant, workflowId: a.id, definition, createdAt: 0 })).toBeNull();
    expect(await fx.store.workflows.getWorkflow(fx.tenantId, 'pipeline')).toMatchObject({ id: a.id, latestVersion: 2 });
    expect(await fx.store.workflows.getWorkflow(fx.tenantId, a.id)).toMatchObject({ name: 'pipeline' });
    expect(await fx.store.workflows.getWorkflow(fx.otherTenant, a.id)).toBeNull();
    expect(await fx.store.workflows.getWorkflowVersion(fx.tenantId, a.id, { number: 1 })).toEqual(a1);
    expect((await fx.store.workflows.getWorkflowVersion(fx.tenantId, a.id, { id: a2!.id }))?.definition.Comment).toBe('two');
    expect((await fx.store.workflows.listWorkflowVersions(fx.tenantId, a.id)).map((v) => v.number)).toEqual([2, 1]);
    const [b, b1] = workflowOf('other');
    await fx.store.workflows.createWorkflow(b, b1);
    const first = await fx.store.workflows.listWorkflows(fx.tenantId, { limit: 1 });
    const second = await fx.store.workflows.listWorkflows(fx.tenantId, { limit: 1, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((w) => w.name)).toEqual(['pipeline', 'other']);
    expect(second.nextCursor).toBeNull();
  });

  it('stores an execution with its first tasks in one step; an idempotency key gives back the first', async () => {
    const [w, v] = workflowOf('wf');
    await fx.store.workflows.createWorkflow(w, v);
    const e = executionOf(w, { idempotencyKey: 'k1', requestHash: 'h' });
    const created = await fx.store.workflows.createExecution(e, stepOf({ tasks: [taskFor(e, 'x/1:A#1')], timers: [{ key: '@timeout', at: fx.clock.now() + 1000 }], history: [entry('ExecutionStarted')] }));
    expect(created.created && created.tasks.map((t) => t.idempotencyKey)).toEqual([`wf:${e.id}:x/1:A#1`]);
    const again = await fx.store.workflows.createExecution(executionOf(w, { idempotencyKey: 'k1' }), stepOf({ tasks: [taskFor(e, 'x/1:A#1')] }));
    expect(again).toMatchObject({ created: false, execution: { id: e.id, rev: 1, stepsDone: 1 } });
    expect((await fx.store.workflows.executionByKey(fx.tenantId, 'k1'))?.id).toBe(e.id);
    expect(await fx.store.workflows.executionByKey(fx.otherTenant, 'k1')).toBeNull();
    const stored = (await fx.store.workflows.getExecution(fx.tenantId, e.id))!;
    expect(stored).toMatchObject({ status: 'RUNNING', input: { n: 1 }, rev: 1, requestHash: 'h' });
    expect(await fx.store.workflows.getExecution(fx.otherTenant, e.id)).toBeNull();
    const [task] = (await fx.store.workflows.listExecutionTasks(e.id, {}, { limit: 10 })).items;
    expect(await fx.store.tasks.getTask(fx.tenantId, task!.taskId)).toMatchObject({ status: 'QUEUED' });
    expect(await fx.store.workflows.executionTasksOf([task!.taskId, 'task_other'])).toEqual([task]);
    expect(await fx.store.workflows.nextTimerAt()).toBe(fx.clock.now() + 1000);
  });

  it('saves a step only against the revision it was computed from, starts each key’s task once, and keeps outcome entries once', async () => {
    const [w, v] = workflowOf('wf');
    await fx.store.workflows.createWorkflow(w, v);
    const e = executionOf(w);
    await fx.store.workflows.createExecution(e, stepOf({ tasks: [taskFor(e, 'k1')] }));
    expect(await fx.store.workflows.saveStep(e.id, 0, stepOf({ tasks: [taskFor(e, 'k2')] }))).toEqual({ saved: false });
    const step = stepOf({ tasks: [taskFor(e, 'k1'), taskFor(e, 'k2')], timers: [{ key: 't1', at: fx.clock.now() - 1 }], history: [entry('TaskSucceeded', { eventId: 'o.1' })] });
    const saved = await fx.store.workflows.saveStep(e.id, 1, step);
    expect(saved.saved && saved.tasks.map((t) => t.idempotencyKey)).toEqual([`wf:${e.id}:k2`]);
    await fx.store.workflows.appendHistory(e.id, [entry('TaskSucceeded', { eventId: 'o.1' }), entry('TaskAttemptFailed', { eventId: 'o.2', detail: { code: 'EXIT_CODE' } })]);
    const first = await fx.store.workflows.listExecutionTasks(e.id, {}, { limit: 1 });
    const second = await fx.store.workflows.listExecutionTasks(e.id, {}, { limit: 1, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((t) => t.key)).toEqual(['k1', 'k2']);
    expect(second.nextCursor).toBeNull();
    expect((await fx.store.workflows.listExecutionTasks(e.id, { state: 'B' }, { limit: 10 })).items).toEqual([]);
    expect((await fx.store.workflows.executionTasks(e.id, ['k2'])).map((t) => t.key)).toEqual(['k2']);
    expect(await fx.store.workflows.dueTimers(fx.clock.now(), 10)).toEqual([{ executionId: e.id, key: 't1', at: fx.clock.now() - 1 }]);
    const history = await fx.store.workflows.history(e.id, 0, 10);
    expect(history.map((h) => h.type)).toEqual(['TaskSucceeded', 'TaskAttemptFailed']);
    expect((await fx.store.workflows.history(e.id, history[0]!.seq, 10)).map((h) => h.detail)).toEqual([{ code: 'EXIT_CODE' }]);

    // The end removes the timers; a fired one goes with the step that handled it.
    await fx.store.workflows.saveStep(e.id, 2, stepOf({ firedTimers: ['t1'] }));
    expect(await fx.store.workflows.nextTimerAt()).toBeNull();
    await fx.store.workflows.saveStep(e.id, 3, stepOf({ timers: [{ key: 't2', at: 5 }] }));
    expect(await fx.store.workflows.unfinishedTasksOfEndedExecutions(10)).toEqual([]);
    await fx.store.workflows.saveStep(e.id, 4, stepOf({}, 'SUCCEEDED'));
    expect(await fx.store.workflows.nextTimerAt()).toBeNull();
    // Its two tasks are still queued: a crash came between the end and their cancels.
    expect((await fx.store.workflows.unfinishedTasksOfEndedExecutions(10)).map((t) => t.tenantId)).toEqual([fx.tenantId, fx.tenantId]);
    expect(await fx.store.workflows.executionById(e.id)).toMatchObject({ status: 'SUCCEEDED', output: { ok: true }, rev: 5 });
  });

  it('lists executions newest first by workflow and status, and deletes a workflow only when none runs', async () => {
    const [w, v] = workflowOf('wf');
    await fx.store.workflows.createWorkflow(w, v);
    const [a, b] = [executionOf(w), executionOf(w)];
    await fx.store.workflows.createExecution(a, stepOf({}, 'FAILED'));
    await fx.store.workflows.createExecution(b, stepOf());
    expect((await fx.store.workflows.listExecutions(fx.tenantId, { workflowId: w.id }, { limit: 10 })).items.map((e) => e.id)).toEqual([b.id, a.id]);
    expect((await fx.store.workflows.listExecutions(fx.tenantId, { statuses: ['FAILED'] }, { limit: 10 })).items.map((e) => e.id)).toEqual([a.id]);
    expect((await fx.store.workflows.listExecutions(fx.otherTenant, {}, { limit: 10 })).items).toEqual([]);
    await expect(fx.store.workflows.deleteWorkflow(fx.tenantId, w.id)).rejects.toMatchObject({ code: 'WORKFLOW_RUNNING' });
    await fx.store.workflows.saveStep(b.id, 1, stepOf({}, 'CANCELLED'));
    expect(await fx.store.workflows.deleteWorkflow(fx.otherTenant, w.id)).toBe(false);
    expect(await fx.store.workflows.deleteWorkflow(fx.tenantId, w.id)).toBe(true);
    expect(await fx.store.workflows.getWorkflow(fx.tenantId, w.id)).toBeNull();
    expect(await fx.store.workflows.executionById(a.id)).toBeNull();
  });

  it('keeps a Map’s item pages and results until the execution ends', async () => {
    const [w, v] = workflowOf('wf');
    await fx.store.workflows.createWorkflow(w, v);
    const e = executionOf(w);
    await fx.store.workflows.createExecution(e, stepOf());
    await fx.store.workflows.putItemPages(e.id, 'm', [{ page: 0, items: [1, 2] }, { page: 1, items: [{ a: 3 }] }]);
    await fx.store.workflows.putItemPages(e.id, 'm', [{ page: 1, items: [{ a: 4 }] }]);
    expect(await fx.store.workflows.itemPage(e.id, 'm', 1)).toEqual([{ a: 4 }]);
    expect(await fx.store.workflows.itemPage(e.id, 'm', 2)).toBeNull();
    await fx.store.workflows.saveStep(e.id, 1, stepOf({ results: [2, 0, 1].map((index) => ({ key: 'm', index, value: { i: index } })) }));
    await fx.store.workflows.saveStep(e.id, 2, stepOf({ results: [{ key: 'other', index: 0, value: null }] }));
    expect(await fx.store.workflows.mapResults(e.id, 'm', -1, 2)).toEqual([{ index: 0, value: { i: 0 } }, { index: 1, value: { i: 1 } }]);
    expect(await fx.store.workflows.mapResults(e.id, 'm', 1, 10)).toEqual([{ index: 2, value: { i: 2 } }]);
    await fx.store.workflows.saveStep(e.id, 3, stepOf({}, 'SUCCEEDED'));
    expect(await fx.store.workflows.itemPage(e.id, 'm', 0)).toBeNull();
    expect(await fx.store.workflows.mapResults(e.id, 'm', -1, 10)).toEqual([]);
  });
}
