import { describe, expect, it } from 'vitest';
import { renderTemplate, valueAtPath, withValueAt } from '../input-template.js';
import { ruleHolds } from './choice.js';
import { type Retrier, type StateDefinition, type StateMachine, checkStateMachine } from './definition.js';
import { type ExecutionState, type WorkflowCommand, type WorkflowError, advance, startExecution } from './interpreter.js';
import { errorMatches } from './state-data.js';

/*
 * A model-based test of the interpreter: random definitions and random task outcomes, each run
 * driven event by event (tasks and timers ending in a random order) and checked against a simple
 * recursive evaluator of the same definition with the same outcomes. A Parallel or Map fails with
 * the first failure among its branches in time, which the reference cannot know: so every failure
 * of one run (a task's, a Fail state's) carries the same error, and any order gives the same result.
 */

/** A small seeded generator, so a failing run can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A task's outcome, decided by its resource, input and try: both sides ask the same oracle. */
type Oracle = (resource: string, input: unknown, tryNo: number) => { ok: true; output: unknown } | { ok: false; code: string };

function oracleOf(seed: number, failShare: number, code: string): Oracle {
  return (resource, input, tryNo) => {
    let h = seed;
    for (const ch of `${resource}|${JSON.stringify(input)}|${tryNo}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return h / 4294967296 < failShare ? { ok: false, code } : { ok: true, output: { from: resource, got: input, try: tryNo } };
  };
}

function generate(random: () => number, depth: number, code: string, items: boolean): StateMachine {
  const n = 1 + Math.floor(random() * (depth === 0 ? 6 : 3));
  const names = Array.from({ length: n }, (_, i) => `S${i}`);
  const later = (i: number): string => names[i + 1 + Math.floor(random() * (n - i - 1))]!;
  const retry = (): Retrier[] | undefined => (random() < 0.5 ? [{ ErrorEquals: [random() < 0.5 ? code : 'States.ALL'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: Math.floor(random() * 3) }] : undefined);
  const states: Record<string, StateDefinition> = {};
  names.forEach((name, i) => {
    const last = i === n - 1;
    const flow = last ? { End: true as const } : { Next: names[i + 1]! };
    const r = random();
    const catchable = (): { Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[] } => (!last && random() < 0.4 ? { Catch: [{ ErrorEquals: ['States.ALL'], Next: later(i), ResultPath: '$.caught' }] } : {});
    if (last && r < 0.1) states[name] = { Type: 'Fail', Error: code, Cause: 'oracle' };
    else if (last && r < 0.2) states[name] = { Type: 'Succeed', OutputPath: '$' };
    else if (!last && r < 0.2) {
      states[name] = { Type: 'Choice', Choices: [{ Variable: '$.v', NumericGreaterThan: Math.floor(random() * 10), Next: later(i) }], Default: names[i + 1]! };
    } else if (r < 0.3) states[name] = { Type: 'Pass', Result: { pass: name }, ResultPath: `$.${name}`, ...flow };
    else if (r < 0.4) states[name] = { Type: 'Wait', Seconds: Math.floor(random() * 5), ...flow };
    else if (depth < 2 && r < 0.55) {
      const branches = Array.from({ length: 1 + Math.floor(random() * 3) }, () => generate(random, depth + 1, code, false));
      states[name] = { Type: 'Parallel', Branches: branches, ResultPath: `$.${name}`, Retry: retry(), ...catchable(), ...flow };
    } else if (depth < 2 && items && r < 0.7) {
      states[name] = { Type: 'Map', ItemsPath: '$.items', Parameters: { 'items.$': '$.items' }, MaxConcurrency: Math.floor(random() * 4), ItemProcessor: generate(random, depth + 1, code, false), ResultPath: `$.${name}`, Retry: retry(), ...catchable(), ...flow };
    } else {
      states[name] = { Type: 'Task', Resource: `fn-${Math.floor(random() * 4)}`, Parameters: { 'v.$': '$.v', step: name }, ResultSelector: { 'try.$': '$.try' }, ResultPath: `$.${name}`, Retry: retry(), ...catchable(), ...flow };
    }
  });
  return { StartAt: 'S0', States: states };
}

type Outcome = { ok: true; output: unknown } | { ok: false; error: WorkflowError };

/** The reference: runs a machine to its end, recursively and in order, with the oracle's outcomes. */
function evaluate(m: StateMachine, input: unknown, oracle: Oracle): Outcome {
  const select = (v: unknown, p: string | null | undefined): unknown => (p === undefined || p === '$' ? v : p === null ? {} : valueAtPath(v, p));
  const put = (v: unknown, p: string | null | undefined, r: unknown): unknown => (p === undefined || p === '$' ? r : p === null ? v : withValueAt(v, p, r));
  let name = m.StartAt;
  let raw = input;
  for (;;) {
    const s = m.States[name]!;
    const input = s.Type === 'Fail' ? raw : select(raw, s.InputPath);
    let next: { to: string | null; output: unknown } | { error: WorkflowError };
    if (s.Type === 'Succeed') return { ok: true, output: select(input, s.OutputPath) };
    if (s.Type === 'Fail') return { ok: false, error: { Error: s.Error ?? 'States.Fail', Cause: s.Cause ?? '' } };
    if (s.Type === 'Choice') {
      name = s.Choices.find((c) => ruleHolds(c, input))?.Next ?? s.Default!;
      raw = select(input, s.OutputPath);
      continue;
    }
    const done = (result: unknown, selector?: unknown, resultPath?: string | null) => {
      const out = select(put(raw, resultPath, selector === undefined ? result : renderTemplate(selector, result)), (s as { OutputPath?: string | null }).OutputPath);
      return { to: (s as { End?: boolean }).End ? null : (s as { Next: string }).Next, output: out };
    };
    if (s.Type === 'Pass') next = done(s.Result !== undefined ? s.Result : input, undefined, s.ResultPath);
    else if (s.Type === 'Wait') next = { to: s.End ? null : s.Next!, output: select(input, s.OutputPath) };
    else {
      const retries = (s.Retry ?? []).map(() => 0);
      for (;;) {
        const tryNo = retries.reduce((a, b) => a + b, 1);
        const params = s.Parameters !== undefined ? renderTemplate(s.Parameters, input) : input;
        let once: Outcome;
        let fromTask = false;
        if (s.Type === 'Task') {
          const o = oracle(s.Resource, params, tryNo);
          once = o.ok ? o : { ok: false, error: { Error: o.code, Cause: 'oracle' } };
          fromTask = true;
        } else if (s.Type === 'Parallel') {
          const results = s.Branches.map((b) => evaluate(b, params, oracle));
          const failed = results.find((r) => !r.ok);
          once = failed ?? { ok: true, output: results.map((r) => (r as { output: unknown }).output) };
        } else {
          const list = select(params, s.ItemsPath) as unknown[];
          const results = list.map((item) => evaluate(s.ItemProcessor, item, oracle));
          const failed = results.find((r) => !r.ok);
          once = failed ?? { ok: true, output: results.map((r) => (r as { output: unknown }).output) };
        }
        if (once.ok) {
          next = done(once.output, s.ResultSelector, s.ResultPath);
          break;
        }
        const err = once.error;
        const r = (s.Retry ?? []).findIndex((x) => errorMatches(x.ErrorEquals, err, fromTask));
        if (r >= 0 && retries[r]! < (s.Retry![r]!.MaxAttempts ?? 3)) {
          retries[r]!++;
          continue;
        }
        const c = (s.Catch ?? []).find((x) => errorMatches(x.ErrorEquals, err, fromTask));
        next = c ? { to: c.Next, output: put(raw, c.ResultPath, err) } : { error: err };
        break;
      }
    }
    if ('error' in next) return { ok: false, error: next.error };
    if (next.to === null) return { ok: true, output: next.output };
    name = next.to;
    raw = next.output;
  }
}

/** Drives the interpreter: tasks and timers end in a random order; a task's outcome is the oracle's. */
function drive(def: StateMachine, input: unknown, oracle: Oracle, random: () => number): { state: ExecutionState; started: string[] } {
  const pending = new Map<string, WorkflowCommand>();
  const started: string[] = [];
  let now = 0;
  const apply = (commands: WorkflowCommand[]): void => {
    for (const c of commands) {
      if (c.type === 'start-task') {
        started.push(c.key);
        pending.set(c.key, c);
      } else if (c.type === 'set-timer') pending.set(c.key, c);
      else if (c.type === 'cancel-task') pending.delete(c.key);
    }
  };
  let { state, commands } = startExecution(def, input, now);
  apply(commands);
  for (let steps = 0; state.status === 'RUNNING'; steps++) {
    if (pending.size === 0 || steps > 100_000) throw new Error('the execution waits for nothing, or runs forever');
    const keys = [...pending.keys()];
    const key = keys[Math.floor(random() * keys.length)]!;
    const c = pending.get(key)!;
    pending.delete(key);
    now += 1000;
    if (c.type === 'start-task') {
      const o = oracle(c.resource, c.input, Number(key.slice(key.lastIndexOf('#') + 1)));
      ({ state, commands } = advance(def, state, o.ok ? { type: 'task-succeeded', key, output: o.output } : { type: 'task-failed', key, code: o.code, message: 'oracle' }, now));
    } else ({ state, commands } = advance(def, state, { type: 'timer', key }, now));
    apply(commands);
  }
  return { state, started };
}

describe('workflow interpreter against a reference evaluator', () => {
  it('agrees on 1,000 random definitions with random outcomes and orders of events', () => {
    let differences = 0;
    let failed = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const random = rng(seed);
      const code = random() < 0.5 ? 'EXIT_CODE' : 'TIMED_OUT';
      const def = generate(random, 0, code, true);
      checkStateMachine(def);
      const input = { v: Math.floor(random() * 10), items: Array.from({ length: Math.floor(random() * 5) }, (_, i) => i) };
      const oracle = oracleOf(seed, random() * 0.6, code);
      const expected = evaluate(def, input, oracle);
      const { state, started } = drive(def, input, oracle, random);
      const got: Outcome = state.status === 'SUCCEEDED' ? { ok: true, output: state.output } : { ok: false, error: state.error! };
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        differences++;
        if (differences <= 3) console.error(`seed ${seed}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}\n${JSON.stringify(def)}`);
      }
      if (!got.ok) failed++;
      // No task is started twice under one key.
      expect(new Set(started).size).toBe(started.length);
    }
    expect(differences).toBe(0);
    // The runs exercise both ends.
    expect(failed).toBeGreaterThan(50);
    expect(failed).toBeLessThan(950);
  });
});
