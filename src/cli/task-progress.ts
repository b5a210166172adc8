import { SingleBar } from 'cli-progress';
import type { TaskInfo } from '../sdk/client.js';

/**
 * Shows a task's progress while the CLI waits: a progress bar on a terminal, nothing otherwise
 * (scripts read the final JSON or exit code instead).
 */
export function progressDisplay(enabled: boolean): { update(task: TaskInfo): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({ format: '{status} |{bar}| {value}% {detail}', stream: process.stderr, hideCursor: true, clearOnComplete: false }, undefined);
  let started = false;
  return {
    update(task) {
      const detail = task.status === 'QUEUED' ? `position ${task.position ?? '?'}` : (task.progressMessage ?? `attempt ${task.attempt}`);
      if (!started) {
        bar.start(100, Math.round(task.progress), { status: task.status.padEnd(10), detail });
        started = true;
      } else bar.update(Math.round(task.progress), { status: task.status.padEnd(10), detail });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
