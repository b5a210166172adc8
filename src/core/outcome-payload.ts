import type { TaskRecord } from './types.js';

/**
 * The body a destination receives for a task's end, in the Standard Webhooks envelope (`type`,
 * `timestamp`, `data`): the task's id, function, version, status, its output (a JSON value, or
 * a response's text with `outputType`; for an output kept as an asset, the asset's id) and output
 * files, its error, and its timings.
 */
export function outcomePayload(task: TaskRecord, now: number): { type: string; timestamp: string; data: Record<string, unknown> } {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    type: `task.${task.status.toLowerCase()}`,
    timestamp: new Date(now).toISOString(),
    data: {
      id: task.id,
      functionId: task.functionId,
      versionId: task.versionId,
      status: task.status,
      attempt: task.attempt,
      output: task.outputAsset ? null : task.output,
      ...(task.outputType ? { outputType: task.outputType } : {}),
      ...(task.outputAsset ? { outputAsset: task.outputAsset } : {}),
      outputAssets: task.outputAssets,
      error: task.error,
      createdAt: iso(task.createdAt),
      startedAt: iso(task.startedAt),
      finishedAt: iso(task.finishedAt),
      durationMs: task.startedAt !== null && task.finishedAt !== null ? task.finishedAt - task.startedAt : null,
    },
  };
}
