import { invalid } from '../errors.js';
import { checkTemplate, valueAtPath } from '../input-template.js';
import { checkChoiceRule, type ChoiceRule } from './choice.js';

/**
 * Workflow definitions in the shape of the Amazon States Language: named states with `StartAt`.
 * A `Task` runs a Ferry function (`Resource`: its id or name, `name:VERSION_ID` for one version).
 * Paths are `$`-paths (see input-template.ts); `Parameters` and `ResultSelector` are templates.
 */
export interface StateMachine {
  StartAt: string;
  States: Record<string, StateDefinition>;
  Comment?: string;
  /** The whole execution's limit (on the top machine only): past it the execution ends TIMED_OUT. */
  TimeoutSeconds?: number;
}

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

interface Flow {
  Next?: string;
  End?: boolean;
  Comment?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

interface Results {
  Parameters?: unknown;
  ResultSelector?: unknown;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export type StateDefinition =
  | (Flow & Results & { Type: 'Task'; Resource: string; TimeoutSeconds?: number; Priority?: number; TaskType?: 'query' | 'command'; InputAssetsPath?: string })
  | (Flow & Pick<Results, 'Parameters' | 'ResultPath'> & { Type: 'Pass'; Result?: unknown })
  | (Pick<Flow, 'Comment' | 'InputPath' | 'OutputPath'> & { Type: 'Choice'; Choices: (ChoiceRule & { Next: string })[]; Default?: string })
  | (Flow & Results & { Type: 'Parallel'; Branches: StateMachine[] })
  | (Flow &
      Results & {
        Type: 'Map';
        ItemsPath?: string;
        /** Items from an asset (a JSON array, or JSON Lines), read a page at a time: `AssetPath` finds its id (or `{id}`). */
        ItemReader?: { AssetPath: string };
        /** Results to an asset (JSON Lines, in item order): the Map's result is then `{asset, count}`. */
        ResultWriter?: Record<string, never>;
        ItemProcessor: StateMachine;
        MaxConcurrency?: number;
      })
  | (Flow & { Type: 'Wait'; Seconds?: number; Timestamp?: string; SecondsPath?: string; TimestampPath?: string })
  | (Pick<Flow, 'Comment' | 'InputPath' | 'OutputPath'> & { Type: 'Succeed' })
  | { Type: 'Fail'; Comment?: string; Error?: string; Cause?: string };

export type StateType = StateDefinition['Type'];

const TERMINAL: readonly StateType[] = ['Choice', 'Succeed', 'Fail'];

/**
 * Checks a definition as a whole: every transition names a state of its machine, every state can
 * be reached, every state that flows on has exactly one of `Next` and `End`, paths and templates
 * parse, Choice rules are sound; branches and item processors alike. Errors name the state and
 * the field (`States.Split.Next: …`), under `at` for nested machines.
 */
export function checkStateMachine(m: StateMachine, at = 'definition'): void {
  if (typeof m !== 'object' || m === null || typeof m.States !== 'object' || m.States === null) throw invalid(`${at}.States: required, an object of named states`);
  const names = Object.keys(m.States);
  if (names.length === 0) throw invalid(`${at}.States: has no state`);
  if (!Object.hasOwn(m.States, m.StartAt)) throw invalid(`${at}.StartAt: "${m.StartAt}" is not a state of this machine`);
  if (m.TimeoutSeconds !== undefined && !(Number.isInteger(m.TimeoutSeconds) && m.TimeoutSeconds > 0)) throw invalid(`${at}.TimeoutSeconds: a whole number of seconds > 0`);
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    for (const next of transitions(m.States[name]!)) visit(next);
  };
  for (const [name, s] of Object.entries(m.States)) checkState(s, `${at}.States.${name}`, (next, field) => {
    if (!Object.hasOwn(m.States, next)) throw invalid(`${at}.States.${name}.${field}: "${next}" is not a state of this machine`);
  });
  visit(m.StartAt);
  const unreached = names.find((n) => !reached.has(n));
  if (unreached) throw invalid(`${at}.States.${unreached}: cannot be reached from StartAt`);
}

/** A Task's `Resource`: a function's id or name, `name:VERSION_ID` for one version. */
export function parseResource(resource: string): { functionId: string; versionId?: string } {
  const colon = resource.indexOf(':');
  return colon < 0 ? { functionId: resource } : { functionId: resource.slice(0, colon), versionId: resource.slice(colon + 1) };
}

/** Every Task state's `Resource`, with where it is (`definition.States.Split`), branches and item processors too. */
export function taskResources(m: StateMachine, at = 'definition'): { at: string; resource: string }[] {
  return Object.entries(m.States).flatMap(([name, s]) => {
    const here = `${at}.States.${name}`;
    if (s.Type === 'Task') return [{ at: here, resource: s.Resource }];
    if (s.Type === 'Parallel') return s.Branches.flatMap((b, i) => taskResources(b, `${here}.Branches[${i}]`));
    if (s.Type === 'Map') return taskResources(s.ItemProcessor, `${here}.ItemProcessor`);
    return [];
  });
}

/** The states a state may move to. */
function transitions(s: StateDefinition): string[] {
  const out: string[] = [];
  if ('Next' in s && s.Next) out.push(s.Next);
  if (s.Type === 'Choice') {
    for (const c of s.Choices) out.push(c.Next);
    if (s.Default) out.push(s.Default);
  }
  if ('Catch' in s) for (const c of s.Catch ?? []) out.push(c.Next);
  return out;
}

function checkState(s: StateDefinition, at: string, target: (next: string, field: string) => void): void {
  if (typeof s !== 'object' || s === null || typeof (s as { Type?: unknown }).Type !== 'string') throw invalid(`${at}.Type: required`);
  const path = (field: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') throw invalid(`${at}.${field}: a path such as "$.items"`);
    valueAtPath(null, value, `${at}.${field}`);
  };
  const flows = !TERMINAL.includes(s.Type);
  if (flows) {
    const f = s as Flow;
    if (f.End === true && f.Next !== undefined) throw invalid(`${at}: has both Next and End`);
    if (f.End !== true && f.Next === undefined) throw invalid(`${at}.Next: required (or "End": true)`);
    if (f.Next !== undefined) target(f.Next, 'Next');
  } else if ('Next' in s || 'End' in s) {
    throw invalid(`${at}.${'Next' in s ? 'Next' : 'End'}: a ${s.Type} state ends its path (it takes no Next or End)`);
  }
  if (s.Type !== 'Fail') {
    path('InputPath', s.InputPath);
    path('OutputPath', s.OutputPath);
  }
  if ('ResultPath' in s) path('ResultPath', s.ResultPath);
  if ('Parameters' in s && s.Parameters !== undefined) checkTemplate(s.Parameters, `${at}.Parameters`);
  if ('ResultSelector' in s && s.ResultSelector !== undefined) checkTemplate(s.ResultSelector, `${at}.ResultSelector`);
  if ('Retry' in s) {
    (s.Retry ?? []).forEach((r, i) => {
      if (!Array.isArray(r.ErrorEquals) || r.ErrorEquals.length === 0) throw invalid(`${at}.Retry[${i}].ErrorEquals: a list of error codes`);
      if (r.MaxAttempts !== undefined && !(Number.isInteger(r.MaxAttempts) && r.MaxAttempts >= 0)) throw invalid(`${at}.Retry[${i}].MaxAttempts: a whole number ≥ 0`);
      if (r.BackoffRate !== undefined && !(r.BackoffRate >= 1)) throw invalid(`${at}.Retry[${i}].BackoffRate: a number ≥ 1`);
      if (r.IntervalSeconds !== undefined && !(r.IntervalSeconds >= 0)) throw invalid(`${at}.Retry[${i}].IntervalSeconds: a number ≥ 0`);
    });
  }
  if ('Catch' in s) {
    (s.Catch ?? []).forEach((c, i) => {
      if (!Array.isArray(c.ErrorEquals) || c.ErrorEquals.length === 0) throw invalid(`${at}.Catch[${i}].ErrorEquals: a list of error codes`);
      target(c.Next, `Catch[${i}].Next`);
      path(`Catch[${i}].ResultPath`, c.ResultPath);
    });
  }
  switch (s.Type) {
    case 'Task':
      if (typeof s.Resource !== 'string' || s.Resource === '') throw invalid(`${at}.Resource: a function id or name (name:VERSION_ID for one version)`);
      path('InputAssetsPath', s.InputAssetsPath);
      return;
    case 'Pass':
    case 'Succeed':
    case 'Fail':
      return;
    case 'Choice':
      if (!Array.isArray(s.Choices) || s.Choices.length === 0) throw invalid(`${at}.Choices: at least one rule`);
      s.Choices.forEach((c, i) => {
        checkChoiceRule(c, `${at}.Choices[${i}]`);
        target(c.Next, `Choices[${i}].Next`);
      });
      if (s.Default !== undefined) target(s.Default, 'Default');
      return;
    case 'Parallel':
      if (!Array.isArray(s.Branches) || s.Branches.length === 0) throw invalid(`${at}.Branches: at least one branch`);
      s.Branches.forEach((b, i) => checkStateMachine(b, `${at}.Branches[${i}]`));
      return;
    case 'Map':
      path('ItemsPath', s.ItemsPath);
      if (s.ItemReader !== undefined) {
        if (s.ItemsPath !== undefined) throw invalid(`${at}: a Map takes ItemsPath or ItemReader, not both`);
        if (typeof s.ItemReader !== 'object' || s.ItemReader === null || typeof s.ItemReader.AssetPath !== 'string') throw invalid(`${at}.ItemReader.AssetPath: required, a path to the items' asset`);
        path('ItemReader.AssetPath', s.ItemReader.AssetPath);
      }
      if (s.ResultWriter !== undefined && (typeof s.ResultWriter !== 'object' || s.ResultWriter === null || Object.keys(s.ResultWriter).length > 0)) throw invalid(`${at}.ResultWriter: {} (the results go to an asset)`);
      if (s.MaxConcurrency !== undefined && !(Number.isInteger(s.MaxConcurrency) && s.MaxConcurrency >= 0)) throw invalid(`${at}.MaxConcurrency: a whole number ≥ 0 (0: no limit)`);
      checkStateMachine(s.ItemProcessor, `${at}.ItemProcessor`);
      return;
    case 'Wait': {
      const given = (['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'] as const).filter((f) => s[f] !== undefined);
      if (given.length !== 1) throw invalid(`${at}: a Wait state takes exactly one of Seconds, Timestamp, SecondsPath, TimestampPath`);
      if (s.Seconds !== undefined && !(s.Seconds >= 0)) throw invalid(`${at}.Seconds: a number ≥ 0`);
      if (s.Timestamp !== undefined && Number.isNaN(Date.parse(s.Timestamp))) throw invalid(`${at}.Timestamp: an ISO 8601 time`);
      path('SecondsPath', s.SecondsPath);
      path('TimestampPath', s.TimestampPath);
      return;
    }
    default:
      throw invalid(`${at}.Type: "${(s as { Type: string }).Type}" is not a state type (Task, Pass, Choice, Parallel, Map, Wait, Succeed, Fail)`);
  }
}
