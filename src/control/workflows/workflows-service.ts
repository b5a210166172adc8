import type { Clock } from '../../core/clock.js';
import { FerryError, invalid } from '../../core/errors.js';
import { ID_PREFIX, hashRequest, newId } from '../../core/ids.js';
import { LIMITS } from '../../core/limits.js';
import type { Page, TaskRecord } from '../../core/types.js';
import { type StateMachine, checkStateMachine, parseResource, taskResources } from '../../core/workflows/definition.js';
import type { ExecutionRecord, ExecutionTask, HistoryEntry, WorkflowRecord, WorkflowVersionRecord } from '../../core/workflows/workflow.js';
import type { PageRequest } from '../../store/paging.js';
import type { Store } from '../../store/store.js';
import type { ExecutionFilter } from '../../store/workflow-store.js';
import type { FunctionsService } from '../functions-service.js';
import type { ExecutionDriver } from './execution-driver.js';

export interface WorkflowInput {
  name: string;
  description?: string;
  definition: StateMachine;
}

export interface ExecutionRequest {
  input?: unknown;
  idempotencyKey?: string;
  /** A version of the workflow by id; by default its newest. */
  versionId?: string;
  /** Overrides the definition's `TimeoutSeconds`. */
  timeoutSeconds?: number;
}

/** A workflow as the API shows it: with its newest version's definition. */
export type WorkflowView = WorkflowRecord & { version: WorkflowVersionRecord };

/** Workflows' definitions and their executions, as the API asks for them. */
export class WorkflowsService {
  constructor(
    private readonly store: Pick<Store, 'workflows' | 'tasks'>,
    private readonly functions: FunctionsService,
    private readonly driver: ExecutionDriver,
    private readonly clock: Clock,
  ) {}

  /** Creates a workflow with its first version, its definition checked as a whole. */
  async create(tenantId: string, input: WorkflowInput): Promise<WorkflowView> {
    await this.check(tenantId, input.definition);
    const now = this.clock.now();
    const workflow: WorkflowRecord = { id: newId(ID_PREFIX.workflow, now), tenantId, name: input.name, description: input.description ?? '', latestVersion: 1, createdAt: now, updatedAt: now };
    const version: WorkflowVersionRecord = { id: newId(ID_PREFIX.workflowVersion, now), tenantId, workflowId: workflow.id, number: 1, definition: input.definition, createdAt: now };
    await this.store.workflows.createWorkflow(workflow, version);
    return { ...workflow, version };
  }

  /** Adds a version; new executions run it unless they name another, running ones keep theirs. */
  async addVersion(tenantId: string, idOrName: string, definition: StateMachine): Promise<WorkflowView> {
    const workflow = await this.workflow(tenantId, idOrName);
    await this.check(tenantId, definition);
    const now = this.clock.now();
    const version = await this.store.workflows.addWorkflowVersion({ id: newId(ID_PREFIX.workflowVersion, now), tenantId, workflowId: workflow.id, definition, createdAt: now });
    if (!version) throw workflowNotFound(idOrName);
    return { ...workflow, latestVersion: version.number, updatedAt: now, version };
  }

  async get(tenantId: string, idOrName: string): Promise<WorkflowView> {
    const workflow = await this.workflow(tenantId, idOrName);
    return { ...workflow, version: (await this.store.workflows.getWorkflowVersion(tenantId, workflow.id, { number: workflow.latestVersion }))! };
  }

  list(tenantId: string, page: PageRequest): Promise<Page<WorkflowRecord>> {
    return this.store.workflows.listWorkflows(tenantId, page);
  }

  async versions(tenantId: string, idOrName: string): Promise<WorkflowVersionRecord[]> {
    const workflow = await this.workflow(tenantId, idOrName);
    return this.store.workflows.listWorkflowVersions(tenantId, workflow.id);
  }

  /** One version of the workflow by id; NOT_FOUND naming it otherwise. */
  async version(tenantId: string, workflowId: string, versionId: string): Promise<WorkflowVersionRecord> {
    const version = await this.store.workflows.getWorkflowVersion(tenantId, workflowId, { id: versionId });
    if (!version) throw new FerryError('NOT_FOUND', `versionId: workflow ${workflowId} has no version ${versionId}`);
    return version;
  }

  async delete(tenantId: string, idOrName: string): Promise<void> {
    const workflow = await this.workflow(tenantId, idOrName);
    if (!(await this.store.workflows.deleteWorkflow(tenantId, workflow.id))) throw workflowNotFound(idOrName);
  }

  /** Starts an execution (its first tasks stored with it); a repeated idempotency key gives the first one back. */
  async startExecution(tenantId: string, idOrName: string, req: ExecutionRequest): Promise<{ execution: ExecutionRecord; created: boolean }> {
    const workflow = await this.workflow(tenantId, idOrName);
    const version = req.versionId ? await this.version(tenantId, workflow.id, req.versionId) : (await this.store.workflows.getWorkflowVersion(tenantId, workflow.id, { number: workflow.latestVersion }))!;
    const inputJson = JSON.stringify(req.input ?? null);
    if (Buffer.byteLength(inputJson) > LIMITS.maxInputBytes) {
      throw new FerryError('PAYLOAD_TOO_LARGE', `input: ${Buffer.byteLength(inputJson)} bytes is over the ${LIMITS.maxInputBytes}-byte inline limit; upload it as an asset`);
    }
    const now = this.clock.now();
    const timeoutSeconds = req.timeoutSeconds ?? version.definition.TimeoutSeconds;
    const execution: ExecutionRecord = {
      id: newId(ID_PREFIX.execution, now),
      tenantId,
      workflowId: workflow.id,
      versionId: version.id,
      status: 'RUNNING',
      input: req.input ?? null,
      output: null,
      error: null,
      state: { status: 'RUNNING', root: { id: 'x', machine: [], visits: 0, step: null } },
      rev: 0,
      idempotencyKey: req.idempotencyKey ?? null,
      requestHash: req.idempotencyKey === undefined ? null : hashRequest([workflow.id, req.versionId ?? '', String(req.timeoutSeconds ?? ''), inputJson]),
      stepsDone: 0,
      timeoutAt: timeoutSeconds === undefined ? null : now + timeoutSeconds * 1000,
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    };
    const result = await this.driver.start(execution, version);
    if (!result.created && result.execution.requestHash !== execution.requestHash) {
      throw new FerryError('IDEMPOTENCY_KEY_REUSED', `idempotencyKey "${req.idempotencyKey}" was used for a different request (execution ${result.execution.id})`, { details: { executionId: result.execution.id } });
    }
    return result;
  }

  async execution(tenantId: string, executionId: string): Promise<ExecutionRecord> {
    const execution = await this.store.workflows.getExecution(tenantId, executionId);
    if (!execution) throw new FerryError('EXECUTION_NOT_FOUND', `execution ${executionId} not found`);
    return execution;
  }

  /** Newest first; `workflow` by id or name. */
  async executions(tenantId: string, filter: Omit<ExecutionFilter, 'workflowId'> & { workflow?: string }, page: PageRequest): Promise<Page<ExecutionRecord>> {
    const workflowId = filter.workflow === undefined ? undefined : (await this.workflow(tenantId, filter.workflow)).id;
    return this.store.workflows.listExecutions(tenantId, { ...(workflowId ? { workflowId } : {}), ...(filter.statuses ? { statuses: filter.statuses } : {}) }, page);
  }

  async history(tenantId: string, executionId: string, afterSeq: number, limit: number): Promise<HistoryEntry[]> {
    await this.execution(tenantId, executionId);
    return this.store.workflows.history(executionId, afterSeq, limit);
  }

  /** The tasks it started, in order (of one state, by name, when given), each as it is now (its status and attempts). */
  async tasks(tenantId: string, executionId: string, filter: { state?: string }, page: PageRequest): Promise<Page<{ step: ExecutionTask; task: TaskRecord | null }>> {
    await this.execution(tenantId, executionId);
    const steps = await this.store.workflows.listExecutionTasks(executionId, filter, page);
    const items = await Promise.all(steps.items.map(async (step) => ({ step, task: await this.store.tasks.getTask(tenantId, step.taskId) })));
    return { items, nextCursor: steps.nextCursor };
  }

  /** Ends a running execution CANCELLED and cancels the tasks it waits for. */
  async cancel(tenantId: string, executionId: string): Promise<ExecutionRecord> {
    const execution = await this.execution(tenantId, executionId);
    if (execution.status !== 'RUNNING') throw new FerryError('EXECUTION_ENDED', `execution ${executionId} already ended ${execution.status}`);
    const after = (await this.driver.apply(executionId, { events: [{ type: 'cancel' }] }))!;
    if (after.status !== 'CANCELLED') throw new FerryError('EXECUTION_ENDED', `execution ${executionId} ended ${after.status} before the cancel`);
    return after;
  }

  private async workflow(tenantId: string, idOrName: string): Promise<WorkflowRecord> {
    const workflow = await this.store.workflows.getWorkflow(tenantId, idOrName);
    if (!workflow) throw workflowNotFound(idOrName);
    return workflow;
  }

  /** The definition as a whole, and every Task's function: it must exist (it may be deployed later). */
  private async check(tenantId: string, definition: StateMachine): Promise<void> {
    checkStateMachine(definition);
    for (const { at, resource } of taskResources(definition)) {
      const { functionId, versionId } = parseResource(resource);
      const fn = await this.functions.get(tenantId, functionId).catch(() => null);
      if (!fn) throw invalid(`${at}.Resource: no function "${functionId}"`);
      if (versionId !== undefined) {
        await this.functions.versionOf(fn, versionId).catch(() => {
          throw invalid(`${at}.Resource: function ${fn.name} has no version ${versionId}`);
        });
      }
    }
  }
}

function workflowNotFound(idOrName: string): FerryError {
  return new FerryError('WORKFLOW_NOT_FOUND', `workflow ${idOrName} not found`);
}
