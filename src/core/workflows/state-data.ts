import { valueAtPath, withValueAt } from '../input-template.js';
import type { StateDefinition } from './definition.js';

/* How a state's data moves and what it is matched against: its paths, its errors, its waits. */

export interface WorkflowError {
  Error: string;
  Cause: string;
}

/** `InputPath` / `OutputPath`: absent takes it all, null gives `{}`. */
export function selectPath(value: unknown, path: string | null | undefined): unknown {
  if (path === undefined || path === '$') return value;
  if (path === null) return {};
  return valueAtPath(value, path);
}

/** `ResultPath`: absent puts the result in place of the input, null drops it, a path puts it there. */
export function putResult(input: unknown, path: string | null | undefined, result: unknown): unknown {
  if (path === undefined || path === '$') return result;
  if (path === null) return input;
  return withValueAt(input, path, result);
}

/** Whether a retrier's or catcher's `ErrorEquals` names the error (`States.ALL`, `States.TaskFailed`, `States.Timeout`, or its code). */
export function errorMatches(names: string[], error: WorkflowError, fromTask: boolean): boolean {
  return names.some(
    (n) => n === 'States.ALL' || n === error.Error || (n === 'States.Timeout' && error.Error === 'TIMED_OUT') || (n === 'States.TaskFailed' && fromTask && error.Error !== 'TIMED_OUT'),
  );
}

/** When a Wait state ends: its seconds or timestamp, given or found at a path; null when the path finds no time. */
export function waitUntil(s: Extract<StateDefinition, { Type: 'Wait' }>, input: unknown, now: number): number | null {
  if (s.Seconds !== undefined) return now + s.Seconds * 1000;
  if (s.Timestamp !== undefined) return Date.parse(s.Timestamp);
  if (s.SecondsPath !== undefined) {
    const v = valueAtPath(input, s.SecondsPath);
    return typeof v === 'number' && v >= 0 ? now + v * 1000 : null;
  }
  const t = valueAtPath(input, s.TimestampPath!);
  return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? Date.parse(t) : null;
}
