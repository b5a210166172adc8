import { sleep } from '../../src/core/clock.ts';
import { isTerminalTask } from '../../src/core/states.ts';
import { FerryError } from '../../src/sdk/client.ts';
import type { FerryClient, LogLine, TaskInfo } from '../../src/sdk/client.ts';

export interface TaskListener {
  onTask(task: TaskInfo): void;
  onLogs(lines: LogLine[]): void;
  onError(err: unknown): void;
}

// The SDK's streams retry a dropped connection themselves and give up after several failures in
// a row; a page left open through a longer outage starts them again, resuming where they were.
const RESTART_MS = 3000;

/**
 * Follows one task's status, progress and log lines until it ends or `signal` aborts, over the
 * API's Server-Sent Event streams (the SDK's `taskEvents` and `followLogs`). The one place the
 * dashboard learns of a task's changes.
 */
export async function followTask(client: FerryClient, taskId: string, listener: TaskListener, signal: AbortSignal): Promise<void> {
  await Promise.all([followStatus(client, taskId, listener, signal), followLogs(client, taskId, listener, signal)]);
}

async function followStatus(client: FerryClient, taskId: string, listener: TaskListener, signal: AbortSignal): Promise<void> {
  await retrying(listener, signal, async () => {
    // The stream's events leave out the input (and the output until the end): a read first
    // shows them. Each start reads afresh, so a task that ended during an outage is seen ended.
    let task = await client.getTask(taskId);
    listener.onTask(task);
    if (isTerminalTask(task.status)) return;
    for await (const e of client.taskEvents(taskId, { signal })) {
      // Only a queued task has a position: an event without one ends the last.
      task = { ...task, ...e.task, position: e.task.position };
      listener.onTask(task);
    }
  });
}

// Lines arriving together (a backlog, a chatty task) reach the page in one update, not one each.
const LOG_BATCH_MS = 50;

async function followLogs(client: FerryClient, taskId: string, listener: TaskListener, signal: AbortSignal): Promise<void> {
  let after = 0;
  let batch: LogLine[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length > 0 && !signal.aborted) listener.onLogs(batch);
    batch = [];
  };
  try {
    await retrying(listener, signal, async () => {
      for await (const line of client.followLogs(taskId, { after, signal })) {
        after = line.seq;
        batch.push(line);
        timer ??= setTimeout(flush, LOG_BATCH_MS);
      }
    });
  } finally {
    flush();
  }
}

/** Runs `follow` to its end; an unreachable server is reported and tried again after a pause. */
async function retrying(listener: TaskListener, signal: AbortSignal, follow: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await follow();
      return;
    } catch (err) {
      if (signal.aborted) return;
      listener.onError(err);
      if (!(err instanceof FerryError && (err.code === 'SERVER_UNREACHABLE' || err.code === 'STORE_UNAVAILABLE'))) return;
    }
    await sleep(RESTART_MS, signal);
  }
}
