import { LIMITS } from './limits.js';
import type { TaskError } from './types.js';

/**
 * Every code a task's `error` can carry, with what it means. Workflows' Retry/Catch and
 * destinations match on these, so they are stable: a new one is added here, none is renamed.
 * The API's own error codes (a request's failure, not a task's) are in errors.ts.
 */
export const TASK_ERROR_CODES = {
  CANCELLED: 'a cancel was asked for (by request, or by an undeploy that cancels running work)',
  TIMED_OUT: "the attempt ran longer than the task's timeoutSeconds",
  EXPIRED: "the task waited in the queue longer than its version's maxQueuedSeconds",
  LEASE_EXPIRED: 'the agent running the attempt stopped renewing its lease (it died, froze or was cut off)',
  NODE_LOST: "the attempt's node was declared lost, or its agent restarted",
  INSTANCE_STOPPED: "the attempt's instance was stopped under it",
  EXIT_CODE: 'a job command exited with a code other than 0 (exitCode) or was killed by a signal',
  EXEC_FAILED: 'the command could not be started in its container',
  HTTP_STATUS: 'a server-mode function answered with a status other than 2xx (httpStatus)',
  CONNECTION: 'the function could not be reached, or closed the response early',
  OUTPUT_TOO_LARGE: "a job's last stdout line, taken as its output, is over the inline limit",
  AGENT_ERROR: 'the agent itself failed to run the attempt',
  ASSET_UNAVAILABLE: 'an input asset could not be fetched to the node (or its bytes did not match its checksum)',
} as const;

export type TaskErrorCode = keyof typeof TASK_ERROR_CODES;

export function isTaskErrorCode(code: string): code is TaskErrorCode {
  return Object.hasOwn(TASK_ERROR_CODES, code);
}

/** A task error of a known code; `extra` carries `exitCode` or `httpStatus` where they apply. */
export function taskError(code: TaskErrorCode, message: string, extra?: Pick<TaskError, 'exitCode' | 'httpStatus'>): TaskError {
  return { code, message, ...extra };
}

/** The errors the control plane and the stores give, with their texts, so every adapter says the same. */
export const TASK_ERRORS = {
  cancelled: (): TaskError => taskError('CANCELLED', 'cancelled by request'),
  cancelledByUndeploy: (): TaskError => taskError('CANCELLED', 'its instance was stopped by an undeploy'),
  expired: (): TaskError => taskError('EXPIRED', 'queued longer than the version allows (maxQueuedSeconds)'),
  leaseExpired: (): TaskError => taskError('LEASE_EXPIRED', 'the agent running this attempt stopped renewing its lease'),
  nodeLost: (reason: string): TaskError => taskError('NODE_LOST', reason),
  instanceStopped: (): TaskError => taskError('INSTANCE_STOPPED', 'its instance was stopped; running again'),
  timedOut: (timeoutSeconds: number): TaskError => taskError('TIMED_OUT', `ran longer than its timeout of ${timeoutSeconds} s`),
  outputTooLarge: (bytes: number): TaskError =>
    taskError('OUTPUT_TOO_LARGE', `the last stdout line is ${bytes} bytes, over the ${LIMITS.maxInlineOutputBytes}-byte inline limit; write a large output to FERRY_OUTPUT_FILE, which keeps it as an asset`),
  agentError: (message: string): TaskError => taskError('AGENT_ERROR', `the agent could not run the task: ${message}`),
  assetUnavailable: (assetId: string, why: string): TaskError => taskError('ASSET_UNAVAILABLE', `input asset ${assetId} could not be fetched: ${why}`),
} as const;
