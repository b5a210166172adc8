import type { TaskRecord } from './types.js';

/*
 * A task's output is kept in one of two ways. A server-mode function's response keeps its text
 * and its MIME type exactly (`outputType` set, `output` the text); any other output is a JSON
 * value (`outputType` null). What a task record shows is the value; what an invoke or
 * `/output` answers is the body as the function gave it.
 */

/** A JSON MIME type: application/json or a `+json` one, with or without parameters. */
export function isJsonType(type: string): boolean {
  return /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type.trim());
}

/** The output as a task record shows it: a JSON response's value (its text if it does not parse), other text as a string. */
export function outputValue(task: Pick<TaskRecord, 'output' | 'outputType'>): unknown {
  if (task.outputType === null || typeof task.output !== 'string') return task.output;
  if (!isJsonType(task.outputType)) return task.output;
  try {
    return JSON.parse(task.output);
  } catch {
    return task.output;
  }
}

/** What an invoke or `/output` answers with: the function's own text and type, or the value as JSON. */
export function outputBody(task: Pick<TaskRecord, 'output' | 'outputType'>): { contentType: string; body: string } {
  if (task.outputType !== null && typeof task.output === 'string') return { contentType: task.outputType, body: task.output };
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(task.output ?? null) };
}
