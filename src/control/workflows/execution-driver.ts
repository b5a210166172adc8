import type { Clock } from '../../core/clock.js';
import { FerryError } from '../../core/errors.js';
import { keyWithin } from '../../core/ids.js';
import { outputValue } from '../../core/outputs.js';
import type { TaskRecord } from '../../core/types.js';
import { type StateMachine, parseResource } from '../../core/workflows/definition.js';
import { type Advanced, type ExecutionState, type StepTrace, type WorkflowCommand, type WorkflowEvent, advance, startExecution } from '../../core/workflows/interpreter.js';
import {
  type ExecutionRecord,
  type NewHistoryEntry,
  TIMEOUT_TIMER,
  type WorkflowVersionRecord,
  assetIdIn,
  historyDetail,
  historyOf,
  stepsDoneIn,
} from '../../core/workflows/workflow.js';
import type { Store } from '../../store/store.js';
import type { StepWrite } from '../../store/workflow-store.js';
import type { TasksService } from '../tasks-service.js';
import type { Wakeups } from '../wakeups/wakeups.js';
import type { MapItems } from './map-items.js';

/** What moves an execution on: interpreter events, the timers they answer, and history from outside the interpreter (a task's end). */
export interface ExecutionInput {
  events: WorkflowEvent[];
  firedTimers?: string[];
  history?: NewHistoryEntry[];
}

/** How often a step computed from a state another writer moved meanwhile is computed again before giving up. */
const MAX_CONFLICTS = 20;

/**
 * Applies the interpreter's commands: a step's tasks are checked as a submit checks them and
 * stored with the step, in one transaction (store/workflow-store.ts), under idempotency keys made
 * of the step's key, so a replayed event starts nothing twice. A task the function refuses (not
 * found, not deployed, its input too large) fails its step with the refusal's code, for Retry and
 * Catch to handle. A Map's items read from an asset and its results written to one are read and
 * written here too (map-items.ts), and a failure to do so fails the Map. Cancels are sent once the
 * step is saved. Every replica runs one: the API's starts and cancels, and on the leader the
 * outcome feed's and the timers' events.
 */
export class ExecutionDriver {
  /** Versions are immutable: their definitions are read once. */
  private readonly definitions = new Map<string, StateMachine>();

  constructor(
    private readonly store: Pick<Store, 'workflows'>,
    private readonly tasks: TasksService,
    private readonly mapItems: MapItems,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
  ) {}

  /** Stores a new execution with its first step (or returns the earlier one of its idempotency key). */
  async start(execution: ExecutionRecord, version: WorkflowVersionRecord): Promise<{ execution: ExecutionRecord; created: boolean }> {
    // A repeated start is answered before its first step is made (which may read a Map's items into the store).
    const earlier = execution.idempotencyKey === null ? null : await this.store.workflows.executionByKey(execution.tenantId, execution.idempotencyKey);
    if (earlier) return { execution: earlier, created: false };
    this.definitions.set(version.id, version.definition);
    const now = execution.createdAt;
    const first = await this.mapItems.withItems(execution.id, (items) => startExecution(version.definition, execution.input, now, items));
    const started: NewHistoryEntry = { at: now, type: 'ExecutionStarted', key: null, state: null, taskId: null, detail: historyDetail({ input: execution.input }), eventId: null };
    const { step, cancels } = await this.resolve(execution, version.definition, first, [started], now);
    if (execution.timeoutAt !== null && step.execution.status === 'RUNNING') step.timers.push({ key: TIMEOUT_TIMER, at: execution.timeoutAt });
    const result = await this.store.workflows.createExecution(execution, step);
    if (!result.created) return { execution: result.execution, created: false };
    this.afterSave(execution, result.tasks, cancels, step);
    return { execution: { ...execution, ...step.execution, rev: execution.rev + 1 }, created: true };
  }

  /** Applies events to an execution, again from its newest state whenever another writer saved first. Returns it as it is then. */
  async apply(executionId: string, input: ExecutionInput): Promise<ExecutionRecord | null> {
    for (let conflicts = 0; ; conflicts++) {
      const execution = await this.store.workflows.executionById(executionId);
      if (!execution) return null;
      const now = this.clock.now();
      let step: StepWrite;
      let cancels: string[] = [];
      if (execution.status !== 'RUNNING') {
        // Ended: events change nothing, but what they tell is history, and a late timer goes.
        if (!input.firedTimers?.length) {
          await this.store.workflows.appendHistory(execution.id, input.history ?? []);
          return execution;
        }
        step = { execution, tasks: [], timers: [], results: [], firedTimers: input.firedTimers, history: input.history ?? [] };
      } else {
        const definition = await this.definition(execution);
        const advanced = await this.mapItems.withItems(execution.id, (items) => {
          let all: Advanced = { state: execution.state, commands: [], trace: [] };
          for (const event of input.events) {
            const next = advance(definition, all.state, event, now, items);
            all = { state: next.state, commands: [...all.commands, ...next.commands], trace: [...all.trace, ...next.trace] };
          }
          return all;
        });
        ({ step, cancels } = await this.resolve(execution, definition, advanced, input.history ?? [], now));
        step.firedTimers = input.firedTimers ?? [];
      }
      const saved = await this.store.workflows.saveStep(execution.id, execution.rev, step);
      if (saved.saved) {
        this.afterSave(execution, saved.tasks, cancels, step);
        return { ...execution, ...step.execution, rev: execution.rev + 1 };
      }
      if (conflicts >= MAX_CONFLICTS) throw new Error(`execution ${executionId}: ${MAX_CONFLICTS} steps in a row were overtaken by other writers`);
    }
  }

  /**
   * Turns the interpreter's commands into the step to save: each task checked and made, a Map's
   * items read and its results written, each fed back to the interpreter (a refused task, or
   * items that cannot be read, as its state's failure), which may ask for more; then timers,
   * history and status.
   */
  private async resolve(execution: ExecutionRecord, definition: StateMachine, advanced: Advanced, history: NewHistoryEntry[], now: number): Promise<{ step: StepWrite; cancels: string[] }> {
    const { tenantId } = execution;
    let state: ExecutionState = advanced.state;
    const trace: StepTrace[] = [...advanced.trace];
    const commands: WorkflowCommand[] = [];
    const refusals: NewHistoryEntry[] = [];
    const tasks: StepWrite['tasks'] = [];
    const results: StepWrite['results'] = [];
    let pending = advanced.commands;
    const feed = async (event: WorkflowEvent, next: WorkflowCommand[]): Promise<void> => {
      const fed = await this.mapItems.withItems(execution.id, (items) => advance(definition, state, event, now, items));
      state = fed.state;
      trace.push(...fed.trace);
      next.push(...fed.commands);
    };
    const failed = (key: string, err: FerryError): WorkflowEvent => ({ type: 'task-failed', key, code: err.code, message: err.message });
    while (pending.length > 0) {
      const next: WorkflowCommand[] = [];
      for (const c of pending) {
        if (c.type === 'start-task') {
          try {
            tasks.push({ key: c.key, state: c.state, task: await this.tasks.check(tenantId, taskRequest(execution.id, c)) });
            commands.push(c);
          } catch (err) {
            if (!isRefusal(err)) throw err;
            refusals.push({ at: now, type: 'TaskFailed', key: c.key, state: c.state, taskId: null, detail: { error: { Error: err.code, Cause: err.message } }, eventId: null });
            await feed(failed(c.key, err), next);
          }
        } else if (c.type === 'read-items') {
          const count = await this.mapItems.read(tenantId, execution.id, c.key, c.asset).catch((err: unknown) => {
            if (!isRefusal(err)) throw err;
            return err;
          });
          await feed(count instanceof FerryError ? failed(c.key, count) : { type: 'items-read', key: c.key, count }, next);
        } else if (c.type === 'put-result') {
          results.push({ key: c.key, index: c.index, value: c.value });
        } else if (c.type === 'write-results') {
          const asset = await this.mapItems.write(tenantId, execution.id, c.key, c.count, results.filter((r) => r.key === c.key));
          await feed({ type: 'results-written', key: c.key, asset }, next);
        } else {
          commands.push(c);
        }
      }
      pending = next;
    }
    const taskIds = new Map(tasks.map((t) => [t.key, t.task.task.id]));
    const end = commands.find((c) => c.type === 'end');
    return {
      step: {
        execution: {
          status: state.status,
          state,
          output: state.output ?? null,
          error: state.error ?? null,
          stepsDone: execution.stepsDone + stepsDoneIn(trace),
          updatedAt: now,
          endedAt: end ? now : null,
        },
        tasks,
        timers: commands.flatMap((c) => (c.type === 'set-timer' ? [{ key: c.key, at: c.at }] : [])),
        results,
        firedTimers: [],
        history: [...history, ...refusals, ...historyOf(trace, commands, taskIds, now)],
      },
      cancels: commands.flatMap((c) => (c.type === 'cancel-task' ? [c.key] : [])),
    };
  }

  /** Once a step is saved: its tasks announced to their claimers, the tasks it no longer waits for cancelled, the timer loop told. */
  private afterSave(execution: ExecutionRecord, started: TaskRecord[], cancels: string[], step: StepWrite): void {
    this.tasks.announce(started);
    if (step.timers.length > 0) this.wakeups.emit({ kind: 'workflows' });
    if (cancels.length === 0) return;
    void (async () => {
      for (const t of await this.store.workflows.executionTasks(execution.id, cancels)) {
        // Already ended (it raced its cancel): nothing to stop.
        await this.tasks.cancel(execution.tenantId, t.taskId).catch(() => {});
      }
    })().catch(() => {});
  }

  /**
   * Cancels what a crash left running: tasks of ended executions (their cancels are sent after
   * the end is saved, and a crash between the two leaves them to run on). The leader does this
   * as it takes the lead. Returns how many it cancelled.
   */
  async cancelLeftovers(limit = 1000): Promise<number> {
    const left = await this.store.workflows.unfinishedTasksOfEndedExecutions(limit);
    for (const t of left) await this.tasks.cancel(t.tenantId, t.taskId).catch(() => {});
    return left.length;
  }

  private async definition(execution: ExecutionRecord): Promise<StateMachine> {
    let definition = this.definitions.get(execution.versionId);
    if (!definition) {
      const version = await this.store.workflows.getWorkflowVersion(execution.tenantId, execution.workflowId, { id: execution.versionId });
      if (!version) throw new Error(`execution ${execution.id}: its workflow version ${execution.versionId} is gone`);
      definition = version.definition;
      this.definitions.set(version.id, definition);
    }
    return definition;
  }
}

/** A request Ferry refuses for what it asks (not found, not deployed, invalid): the state fails with it, and Retry and Catch decide. */
function isRefusal(err: unknown): err is FerryError {
  return err instanceof FerryError && err.status < 500;
}

/** The submit a Task state's command asks for: `Resource` is a function's id or name, `name:VERSION_ID` for one version. */
function taskRequest(executionId: string, c: Extract<WorkflowCommand, { type: 'start-task' }>) {
  return {
    ...parseResource(c.resource),
    input: c.input,
    idempotencyKey: executionTaskKey(executionId, c.key),
    ...(c.priority !== undefined ? { priority: c.priority } : {}),
    ...(c.taskType !== undefined ? { taskType: c.taskType } : {}),
    ...(c.timeoutSeconds !== undefined ? { timeoutSeconds: c.timeoutSeconds } : {}),
    ...(c.inputAssets !== undefined ? { inputAssets: assetIds(c.inputAssets) } : {}),
  };
}

/** `InputAssetsPath` found an asset id, a list of ids, or asset references (`{id}`: a task's `outputAssets`). */
function assetIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => {
    const id = assetIdIn(v);
    if (id === null) throw new FerryError('INVALID_REQUEST', `InputAssetsPath: found ${JSON.stringify(v)}, not an asset id or {"id": …}`);
    return id;
  });
}

/** The event a task's end is to the interpreter, with the result a Task state gets. */
export function taskEvent(key: string, task: TaskRecord): WorkflowEvent {
  if (task.status === 'SUCCEEDED') return { type: 'task-succeeded', key, output: taskResult(task) };
  return { type: 'task-failed', key, code: task.error?.code ?? task.status, message: task.error?.message ?? `the task ended ${task.status}` };
}

/** A task's output value; with the files it left as assets, `{output, outputAssets}`. */
export function taskResult(task: TaskRecord): unknown {
  const output = outputValue(task);
  return task.outputAssets.length > 0 ? { output, outputAssets: task.outputAssets } : output;
}

/** Longer step keys are hashed into the task's idempotency key (whose limit is 256). */
const MAX_KEY_IN_IDEMPOTENCY = 180;

/** The idempotency key of the task an execution starts for a step: the same on every replay. */
function executionTaskKey(executionId: string, key: string): string {
  return `wf:${executionId}:${keyWithin(key, MAX_KEY_IN_IDEMPOTENCY)}`;
}
