import { isTerminalTask } from '../../src/core/states.ts';
import type { FerryClient, LogLine, TaskInfo } from '../../src/sdk/client.ts';

export interface TaskListener {
  onTask(task: TaskInfo): void;
  onLogs(lines: LogLine[]): void;
  onError(err: unknown): void;
}

// Polling until the SDK's event streams exist: the task and new log lines twice a second.
const POLL_MS = 500;
// The logs route answers at most this many lines by default; a full page means more are waiting.
const LOG_PAGE = 1000;

/**
 * Follows one task's status, progress and log lines until it ends or `signal` aborts. The one
 * place the dashboard learns of a task's changes, so that the SDK's server-sent-event iterators
 * can replace polling here without touching the page.
 */
export async function followTask(client: FerryClient, taskId: string, listener: TaskListener, signal: AbortSignal): Promise<void> {
  let after = 0;
  while (!signal.aborted) {
    try {
      const task = await client.getTask(taskId);
      // Logs are read after the task, so the lines of a task seen ending are all there.
      const logs = await client.taskLogs(taskId, after);
      if (signal.aborted) return;
      listener.onTask(task);
      if (logs.lines.length > 0) listener.onLogs(logs.lines);
      after = logs.next;
      if (logs.lines.length >= LOG_PAGE) continue;
      if (isTerminalTask(task.status)) return;
    } catch (err) {
      if (signal.aborted) return;
      listener.onError(err);
    }
    await sleep(POLL_MS, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
