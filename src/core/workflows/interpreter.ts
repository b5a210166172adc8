import { renderTemplate, valueAtPath } from '../input-template.js';
import { ruleHolds } from './choice.js';
import type { Catcher, Retrier, StateDefinition, StateMachine } from './definition.js';
import { type WorkflowError, errorMatches, putResult, selectPath, waitUntil } from './state-data.js';

export type { WorkflowError };

/*
 * The workflow interpreter: pure, and event-sourced. `startExecution` and `advance` take the
 * execution's state and an event (a task ended, a timer fired, a cancel) and give the next state
 * with the commands that follow (start or cancel a task, set a timer, end). Tasks and timers are
 * named by keys made of where they are (scope, visit, state, try), the same however often an event
 * is replayed, so a driver that saves the state with its commands and uses the keys as idempotency
 * keys starts nothing twice. The state is plain JSON, for the store.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

export type WorkflowEvent =
  | { type: 'task-succeeded'; key: string; output: unknown }
  /** A task failed, or could not be started; also a Map's items or results that could not be read or written. */
  | { type: 'task-failed'; key: string; code: string; message: string }
  | { type: 'timer'; key: string }
  /** A Map's ItemReader asset was read: it holds `count` items, stored in pages under the key. */
  | { type: 'items-read'; key: string; count: number }
  /** A Map's results were written to an asset (ResultWriter). */
  | { type: 'results-written'; key: string; asset: unknown }
  | { type: 'cancel' }
  | { type: 'timeout' };

export type WorkflowCommand =
  | { type: 'start-task'; key: string; state: string; resource: string; input: unknown; timeoutSeconds?: number; priority?: number; taskType?: 'query' | 'command'; inputAssets?: unknown }
  | { type: 'cancel-task'; key: string }
  | { type: 'set-timer'; key: string; at: number }
  /** Read a Map's items from the asset (an id or `{id}`) into pages under the key, then tell `items-read`. */
  | { type: 'read-items'; key: string; asset: unknown }
  /** Keep one item's result under the Map's key (ResultWriter): the state does not hold them. */
  | { type: 'put-result'; key: string; index: number; value: unknown }
  /** Write the results kept under the key, in item order, to an asset, then tell `results-written`. */
  | { type: 'write-results'; key: string; count: number }
  | { type: 'end'; status: Exclude<ExecutionStatus, 'RUNNING'>; output?: unknown; error?: WorkflowError };

/** What happened to the states on the way, for the execution's history: entered, left, retried, caught, failed. */
export type StepTrace =
  | { type: 'entered'; key: string; state: string; input: unknown }
  | { type: 'exited'; key: string; state: string; output: unknown }
  | { type: 'retrying'; key: string; state: string; error: WorkflowError; at: number }
  | { type: 'caught'; key: string; state: string; error: WorkflowError; next: string }
  | { type: 'failed'; key: string; state: string; error: WorkflowError };

/** An interpreter step's result: the state after it, what to do, and what happened. */
export interface Advanced {
  state: ExecutionState;
  commands: WorkflowCommand[];
  trace: StepTrace[];
}

interface StepBase {
  state: string;
  /** `<scope>/<visit>:<state>`: where the step is; a try is `#<n>` after it. */
  key: string;
  rawInput: unknown;
  /** How many times each retrier of the state has retried it. */
  retries: number[];
}

type Step =
  | (StepBase & { kind: 'task'; taskKey: string })
  | (StepBase & { kind: 'wait'; timerKey: string; input: unknown })
  | (StepBase & { kind: 'retry'; timerKey: string })
  | (StepBase & { kind: 'parallel'; branches: Scope[] })
  | (StepBase & {
      kind: 'map';
      /** Where its items' pages and kept results are stored: the Map's key and try. */
      storeKey: string;
      /** Inline items (ItemsPath); null when they are read from an asset, a page at a time, through the ItemSource. */
      items: unknown[] | null;
      count: number;
      next: number;
      running: Scope[];
      /** Results held in the state; null with a ResultWriter (each is kept outside by `put-result`). */
      results: unknown[] | null;
      max: number;
      phase: 'reading' | 'running' | 'writing';
    });

type ScopeResult = { ok: true; output: unknown } | { ok: false; error: WorkflowError };

/** One running state machine: the whole workflow, a Parallel branch, a Map item. */
interface Scope {
  id: string;
  /** Where its machine is in the definition: pairs of a state name and a branch index (or -1 for a Map's processor). */
  machine: [string, number][];
  visits: number;
  step: Step | null;
  result?: ScopeResult;
}

export interface ExecutionState {
  status: ExecutionStatus;
  output?: unknown;
  error?: WorkflowError;
  root: Scope;
}

/** Errors a state raises on its own: its Choice matched nothing, its Map items are not a list. */
export const STATES_ERRORS = { noChoice: 'States.NoChoiceMatched', runtime: 'States.Runtime' } as const;

/**
 * Item `index` of the Map whose items are stored under `key` (an ItemReader's, read a page at a
 * time). It throws ItemsMissing when that page is not at hand: the caller loads it and runs the
 * same step again (the interpreter is pure, so a step run again is the same step).
 */
export type ItemSource = (key: string, index: number) => unknown;

export class ItemsMissing extends Error {
  constructor(
    readonly key: string,
    readonly index: number,
  ) {
    super(`item ${index} of ${key} is not loaded`);
  }
}

const noItems: ItemSource = (key, index) => {
  throw new ItemsMissing(key, index);
};

export function startExecution(def: StateMachine, input: unknown, now: number, items: ItemSource = noItems): Advanced {
  const run = new Run(def, now, items);
  const root: Scope = { id: 'x', machine: [], visits: 0, step: null };
  const state: ExecutionState = { status: 'RUNNING', root };
  run.go(root, def.StartAt, input);
  run.settleRoot(state);
  return { state, commands: run.commands, trace: run.trace };
}

/** The state after an event, with its commands; an event for a task or timer no longer waited for changes nothing. */
export function advance(def: StateMachine, current: ExecutionState, event: WorkflowEvent, now: number, items: ItemSource = noItems): Advanced {
  const state = structuredClone(current);
  const run = new Run(def, now, items);
  if (state.status !== 'RUNNING') return { state, commands: [], trace: [] };
  if (event.type === 'cancel' || event.type === 'timeout') {
    run.cancelScope(state.root);
    state.status = event.type === 'cancel' ? 'CANCELLED' : 'TIMED_OUT';
    if (event.type === 'timeout') state.error = { Error: 'States.Timeout', Cause: 'the execution ran past its timeout' };
    run.commands.push({ type: 'end', status: state.status, ...(state.error ? { error: state.error } : {}) });
    return { state, commands: run.commands, trace: run.trace };
  }
  run.deliver(state.root, event);
  run.settleRoot(state);
  return { state, commands: run.commands, trace: run.trace };
}

/** The keys of the tasks an execution waits for now. */
export function runningTaskKeys(state: ExecutionState): string[] {
  const keys: string[] = [];
  const walk = (s: Scope): void => {
    const step = s.step;
    if (!step) return;
    if (step.kind === 'task') keys.push(step.taskKey);
    if (step.kind === 'parallel') step.branches.forEach(walk);
    if (step.kind === 'map') step.running.forEach(walk);
  };
  walk(state.root);
  return keys;
}

/** The steps an execution is in now (tasks, waits, retries' back-offs, branches, maps), innermost last. */
export function currentSteps(state: ExecutionState): { key: string; state: string; kind: string }[] {
  const steps: { key: string; state: string; kind: string }[] = [];
  const walk = (s: Scope): void => {
    const step = s.step;
    if (!step) return;
    steps.push({ key: step.key, state: step.state, kind: step.kind });
    if (step.kind === 'parallel') step.branches.forEach(walk);
    if (step.kind === 'map') step.running.forEach(walk);
  };
  walk(state.root);
  return steps;
}

class Run {
  readonly commands: WorkflowCommand[] = [];
  readonly trace: StepTrace[] = [];

  constructor(
    private readonly def: StateMachine,
    private readonly now: number,
    private readonly items: ItemSource,
  ) {}

  settleRoot(state: ExecutionState): void {
    const r = state.root.result;
    if (!r || state.status !== 'RUNNING') return;
    if (r.ok) {
      state.status = 'SUCCEEDED';
      state.output = r.output;
      this.commands.push({ type: 'end', status: 'SUCCEEDED', output: r.output });
    } else {
      state.status = 'FAILED';
      state.error = r.error;
      this.commands.push({ type: 'end', status: 'FAILED', error: r.error });
    }
  }

  private machineOf(scope: Scope): StateMachine {
    let m = this.def;
    for (const [name, branch] of scope.machine) {
      const s = m.States[name]!;
      m = s.Type === 'Parallel' ? s.Branches[branch]! : (s as Extract<StateDefinition, { Type: 'Map' }>).ItemProcessor;
    }
    return m;
  }

  /** Runs states from `name` on, until one waits (a task, a timer, branches) or the scope ends. */
  go(scope: Scope, name: string, rawInput: unknown, retries?: number[]): void {
    const s = this.machineOf(scope).States[name]!;
    if (!retries) scope.visits++;
    const key = `${scope.id}/${scope.visits}:${name}`;
    const base = { state: name, key, rawInput, retries: retries ?? ('Retry' in s ? (s.Retry ?? []).map(() => 0) : []) };
    const tryNo = base.retries.reduce((a, b) => a + b, 1);
    const input = s.Type === 'Fail' ? rawInput : selectPath(rawInput, s.InputPath);
    scope.step = null;
    if (!retries) this.trace.push({ type: 'entered', key, state: name, input: rawInput });
    switch (s.Type) {
      case 'Pass': {
        const result = s.Result !== undefined ? s.Result : s.Parameters !== undefined ? renderTemplate(s.Parameters, input) : input;
        return this.flowOn(scope, name, key, putResult(rawInput, s.ResultPath, result));
      }
      case 'Task': {
        const taskKey = `${key}#${tryNo}`;
        scope.step = { kind: 'task', ...base, taskKey };
        this.commands.push({
          type: 'start-task',
          key: taskKey,
          state: name,
          resource: s.Resource,
          input: s.Parameters !== undefined ? renderTemplate(s.Parameters, input) : input,
          ...(s.TimeoutSeconds !== undefined ? { timeoutSeconds: s.TimeoutSeconds } : {}),
          ...(s.Priority !== undefined ? { priority: s.Priority } : {}),
          ...(s.TaskType !== undefined ? { taskType: s.TaskType } : {}),
          ...(s.InputAssetsPath !== undefined ? { inputAssets: valueAtPath(input, s.InputAssetsPath) } : {}),
        });
        return;
      }
      case 'Choice': {
        const picked = s.Choices.find((c) => ruleHolds(c, input))?.Next ?? s.Default;
        if (picked === undefined) return this.failScope(scope, name, key, { Error: STATES_ERRORS.noChoice, Cause: `no rule of ${name} matched and it has no Default` });
        const output = selectPath(input, s.OutputPath);
        this.trace.push({ type: 'exited', key, state: name, output });
        return this.go(scope, picked, output);
      }
      case 'Wait': {
        const at = waitUntil(s, input, this.now);
        if (at === null) return this.failScope(scope, name, key, { Error: STATES_ERRORS.runtime, Cause: `${name}: its SecondsPath or TimestampPath found no time` });
        const timerKey = `${key}@wait`;
        scope.step = { kind: 'wait', ...base, timerKey, input };
        this.commands.push({ type: 'set-timer', key: timerKey, at });
        return;
      }
      case 'Succeed': {
        const output = selectPath(input, s.OutputPath);
        this.trace.push({ type: 'exited', key, state: name, output });
        return this.endScope(scope, { ok: true, output });
      }
      case 'Fail':
        return this.failScope(scope, name, key, { Error: s.Error ?? 'States.Fail', Cause: s.Cause ?? '' });
      case 'Parallel': {
        const params = s.Parameters !== undefined ? renderTemplate(s.Parameters, input) : input;
        const step: Step = { kind: 'parallel', ...base, branches: [] };
        scope.step = step;
        s.Branches.forEach((b, i) => {
          const child: Scope = { id: `${key}#${tryNo}/b${i}`, machine: [...scope.machine, [name, i]], visits: 0, step: null };
          step.branches.push(child);
          this.go(child, b.StartAt, params);
        });
        return this.settleParallel(scope, step);
      }
      case 'Map': {
        const params = s.Parameters !== undefined ? renderTemplate(s.Parameters, input) : input;
        const storeKey = `${key}#${tryNo}`;
        const max = s.MaxConcurrency || Number.MAX_SAFE_INTEGER;
        if (s.ItemReader) {
          const step: Step = { kind: 'map', ...base, storeKey, items: null, count: 0, next: 0, running: [], results: null, max, phase: 'reading' };
          scope.step = step;
          this.commands.push({ type: 'read-items', key: storeKey, asset: valueAtPath(params, s.ItemReader.AssetPath) });
          return;
        }
        const items = selectPath(params, s.ItemsPath);
        if (!Array.isArray(items)) return this.failStep(scope, { ...base, kind: 'retry', timerKey: '' }, { Error: STATES_ERRORS.runtime, Cause: `${name}: ItemsPath ${s.ItemsPath ?? '$'} is not a list` });
        const results = s.ResultWriter ? null : new Array<unknown>(items.length).fill(null);
        const step: Step = { kind: 'map', ...base, storeKey, items, count: items.length, next: 0, running: [], results, max, phase: 'running' };
        scope.step = step;
        return this.pumpMap(scope, step);
      }
    }
  }

  /** Hands an event to the step waiting for it, wherever it is below `scope`. */
  deliver(scope: Scope, event: Extract<WorkflowEvent, { key: string }>): void {
    const step = scope.step;
    if (!step) return;
    switch (step.kind) {
      case 'task':
        if (step.taskKey !== event.key || (event.type !== 'task-succeeded' && event.type !== 'task-failed')) return;
        if (event.type === 'task-succeeded') return this.completeStep(scope, step, event.output);
        return this.failStep(scope, step, { Error: event.code, Cause: event.message }, true);
      case 'wait':
        if (event.type !== 'timer' || step.timerKey !== event.key) return;
        return this.flowOn(scope, step.state, step.key, selectPath(step.input, (this.stateOf(scope, step) as { OutputPath?: string | null }).OutputPath), true);
      case 'retry':
        if (event.type !== 'timer' || step.timerKey !== event.key) return;
        return this.go(scope, step.state, step.rawInput, step.retries);
      case 'parallel':
        for (const b of step.branches) if (!b.result) this.deliver(b, event);
        return this.settleParallel(scope, step);
      case 'map':
        if (step.phase !== 'running') return this.deliverToMap(scope, step, event);
        for (const c of step.running) this.deliver(c, event);
        return this.pumpMap(scope, step);
    }
  }

  /** A Map waiting for its items to be read, or its results written. */
  private deliverToMap(scope: Scope, step: Extract<Step, { kind: 'map' }>, event: Extract<WorkflowEvent, { key: string }>): void {
    if (event.key !== step.storeKey) return;
    if (event.type === 'task-failed') return this.failStep(scope, step, { Error: event.code, Cause: event.message });
    if (step.phase === 'reading' && event.type === 'items-read') {
      step.count = event.count;
      step.phase = 'running';
      const s = this.stateOf(scope, step) as Extract<StateDefinition, { Type: 'Map' }>;
      if (!s.ResultWriter) step.results = new Array<unknown>(event.count).fill(null);
      return this.pumpMap(scope, step);
    }
    if (step.phase === 'writing' && event.type === 'results-written') this.completeStep(scope, step, { asset: event.asset, count: step.count });
  }

  private stateOf(scope: Scope, step: Step): StateDefinition {
    return this.machineOf(scope).States[step.state]!;
  }

  private settleParallel(scope: Scope, step: Extract<Step, { kind: 'parallel' }>): void {
    if (scope.step !== step) return;
    const failed = step.branches.find((b) => b.result && !b.result.ok);
    if (failed) {
      for (const b of step.branches) this.cancelScope(b);
      return this.failStep(scope, step, (failed.result as { error: WorkflowError }).error);
    }
    if (step.branches.every((b) => b.result)) this.completeStep(scope, step, step.branches.map((b) => (b.result as { output: unknown }).output));
  }

  /** Takes in the items that ended, starts more up to the concurrency, and ends the Map when all did. */
  private pumpMap(scope: Scope, step: Extract<Step, { kind: 'map' }>): void {
    for (;;) {
      if (scope.step !== step) return;
      const ended = step.running.filter((c) => c.result);
      step.running = step.running.filter((c) => !c.result);
      for (const c of ended) {
        if (!c.result!.ok) {
          for (const r of step.running) this.cancelScope(r);
          step.running = [];
          return this.failStep(scope, step, c.result!.error);
        }
        const index = Number(c.id.slice(c.id.lastIndexOf('/i') + 2));
        if (step.results) step.results[index] = c.result!.output;
        else this.commands.push({ type: 'put-result', key: step.storeKey, index, value: c.result!.output });
      }
      if (step.running.length === 0 && step.next >= step.count) {
        if (step.results) return this.completeStep(scope, step, step.results);
        step.phase = 'writing';
        this.commands.push({ type: 'write-results', key: step.storeKey, count: step.count });
        return;
      }
      if (step.running.length >= step.max || step.next >= step.count) return;
      const index = step.next;
      const item = step.items ? step.items[index] : this.items(step.storeKey, index);
      step.next++;
      const processor = (this.stateOf(scope, step) as Extract<StateDefinition, { Type: 'Map' }>).ItemProcessor;
      const child: Scope = { id: `${step.storeKey}/i${index}`, machine: [...scope.machine, [step.state, -1]], visits: 0, step: null };
      step.running.push(child);
      this.go(child, processor.StartAt, item);
    }
  }

  /** A Task, Parallel or Map state's result: through ResultSelector, ResultPath and OutputPath, on to the next state. */
  private completeStep(scope: Scope, step: Step, result: unknown): void {
    const s = this.stateOf(scope, step) as Extract<StateDefinition, { Type: 'Task' | 'Parallel' | 'Map' }>;
    const selected = s.ResultSelector !== undefined ? renderTemplate(s.ResultSelector, result) : result;
    this.flowOn(scope, step.state, step.key, putResult(step.rawInput, s.ResultPath, selected));
  }

  /** Leaves a state with its output (before its OutputPath, unless `selected`): to Next, or the scope's end. */
  private flowOn(scope: Scope, name: string, key: string, output: unknown, selected = false): void {
    const s = this.machineOf(scope).States[name]!;
    const out = selected ? output : selectPath(output, (s as { OutputPath?: string | null }).OutputPath);
    this.trace.push({ type: 'exited', key, state: name, output: out });
    const f = s as { Next?: string; End?: boolean };
    if (f.End) return this.endScope(scope, { ok: true, output: out });
    this.go(scope, f.Next!, out);
  }

  /** A state failed: retried when a retrier matches and has attempts left, else caught, else the scope fails. */
  private failStep(scope: Scope, step: Step, error: WorkflowError, fromTask = false): void {
    const s = this.stateOf(scope, step) as { Retry?: Retrier[]; Catch?: Catcher[] };
    const retries = [...step.retries];
    const r = (s.Retry ?? []).findIndex((x) => errorMatches(x.ErrorEquals, error, fromTask));
    if (r >= 0 && retries[r]! < (s.Retry![r]!.MaxAttempts ?? 3)) {
      const retrier = s.Retry![r]!;
      const delayMs = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** retries[r]! * 1000;
      retries[r]!++;
      const timerKey = `${step.key}@retry${retries.reduce((a, b) => a + b, 0)}`;
      scope.step = { kind: 'retry', state: step.state, key: step.key, rawInput: step.rawInput, retries, timerKey };
      this.commands.push({ type: 'set-timer', key: timerKey, at: this.now + delayMs });
      this.trace.push({ type: 'retrying', key: step.key, state: step.state, error, at: this.now + delayMs });
      return;
    }
    const c = (s.Catch ?? []).find((x) => errorMatches(x.ErrorEquals, error, fromTask));
    if (c) {
      this.trace.push({ type: 'caught', key: step.key, state: step.state, error, next: c.Next });
      return this.go(scope, c.Next, putResult(step.rawInput, c.ResultPath, error));
    }
    this.failScope(scope, step.state, step.key, error);
  }

  /** A state failed and nothing caught it: its scope ends with the error. */
  private failScope(scope: Scope, name: string, key: string, error: WorkflowError): void {
    this.trace.push({ type: 'failed', key, state: name, error });
    this.endScope(scope, { ok: false, error });
  }

  private endScope(scope: Scope, result: ScopeResult): void {
    scope.step = null;
    scope.result = result;
  }

  /** Cancels what a scope waits for (its tasks, in its branches and items too); it ends with nothing. */
  cancelScope(scope: Scope): void {
    const step = scope.step;
    scope.step = null;
    if (!step) return;
    if (step.kind === 'task') this.commands.push({ type: 'cancel-task', key: step.taskKey });
    if (step.kind === 'parallel') step.branches.forEach((b) => this.cancelScope(b));
    if (step.kind === 'map') step.running.forEach((c) => this.cancelScope(c));
  }
}
