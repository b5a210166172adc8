import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { FerryError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { FerryClient, SubmitRequest } from '../sdk/client.js';

export interface BatchOptions {
  versionId?: string;
  priority?: number;
  /** Line n of the file gets the key `<idempotencyKey>-<n>`, so running the same file again stores nothing twice. */
  idempotencyKey?: string;
}

/** One line of the file as submitted: its task, or why it was refused. */
export type BatchLine = { line: number; taskId: string; status: string; position?: number } | { line: number; error: { code: string; message: string } };

/**
 * `ferry invoke FN --batch FILE.jsonl`: each non-empty line of the file is one task's input (JSON),
 * sent in requests of up to 1,000 tasks (each stored in one transaction), with a progress bar on a
 * terminal. The whole file is parsed first: a line that is not JSON stops the command before
 * anything is sent, naming the line.
 */
export async function submitBatchFile(client: FerryClient, functionId: string, file: string, options: BatchOptions, showProgress: boolean): Promise<BatchLine[]> {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const tasks: { line: number; request: SubmitRequest }[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      throw new FerryError('INVALID_REQUEST', `${file}:${i + 1}: not a JSON value`);
    }
    const request: SubmitRequest = { functionId, versionId: options.versionId, input, priority: options.priority };
    if (options.idempotencyKey !== undefined) request.idempotencyKey = `${options.idempotencyKey}-${i + 1}`;
    tasks.push({ line: i + 1, request });
  }
  const bar = showProgress && process.stderr.isTTY ? new SingleBar({ format: 'submitting |{bar}| {value}/{total} tasks', stream: process.stderr, hideCursor: true }) : null;
  bar?.start(tasks.length, 0);
  const out: BatchLine[] = [];
  try {
    for (let k = 0; k < tasks.length; k += LIMITS.maxBatchTasks) {
      const chunk = tasks.slice(k, k + LIMITS.maxBatchTasks);
      const items = await client.submitBatch(chunk.map((t) => t.request));
      items.forEach((item, j) => {
        const line = chunk[j]!.line;
        out.push('error' in item ? { line, error: { code: item.error.code, message: item.error.message } } : { line, taskId: item.id, status: item.status, position: item.position });
      });
      bar?.update(k + chunk.length);
    }
  } finally {
    bar?.stop();
  }
  return out;
}
