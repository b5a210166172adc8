import { describe, expect, it } from 'vitest';
import { decideCompletion, decideReclaim, retryDelayMs } from './completion.js';
import { TASK_STATUSES, canMoveTask, instanceStatesBefore } from './states.js';

describe('decideCompletion', () => {
  it('retries a failure while attempts remain, then fails', () => {
    expect(decideCompletion('RUNNING', { status: 'FAILED' }, 1, 3, 100)).toEqual({ kind: 'retry', delayMs: 100 });
    expect(decideCompletion('RUNNING', { status: 'TIMED_OUT' }, 2, 3, 100)).toEqual({ kind: 'retry', delayMs: 200 });
    expect(decideCompletion('RUNNING', { status: 'FAILED' }, 3, 3, 100)).toEqual({ kind: 'finish', status: 'FAILED' });
  });
  it('ends a cancelling task as cancelled unless it succeeded', () => {
    expect(decideCompletion('CANCELLING', { status: 'FAILED' }, 1, 3, 100)).toEqual({ kind: 'finish', status: 'CANCELLED' });
    expect(decideCompletion('CANCELLING', { status: 'SUCCEEDED' }, 1, 3, 100)).toEqual({ kind: 'finish', status: 'SUCCEEDED' });
  });
  it('caps back-off at a minute', () => {
    expect(retryDelayMs(30, 1000)).toBe(60_000);
  });
});

describe('decideReclaim', () => {
  it('re-queues a lost attempt a bounded number of times', () => {
    expect(decideReclaim('RUNNING', 0, 3)).toBe('QUEUED');
    expect(decideReclaim('RUNNING', 3, 3)).toBe('FAILED');
    expect(decideReclaim('CANCELLING', 0, 3)).toBe('CANCELLED');
  });
});

describe('the transition tables', () => {
  it('allow every move the completion and reclaim rules make', () => {
    for (const current of ['RUNNING', 'CANCELLING'] as const) {
      for (const status of ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const) {
        for (const attempt of [1, 3]) {
          const d = decideCompletion(current, { status }, attempt, 3, 100);
          expect(canMoveTask(current, d.kind === 'retry' ? 'QUEUED' : d.status), `${current} + ${status} @${attempt}`).toBe(true);
        }
      }
      for (const lost of [0, 3]) expect(canMoveTask(current, decideReclaim(current, lost, 3))).toBe(true);
    }
    expect(TASK_STATUSES.filter((s) => canMoveTask('SUCCEEDED', s))).toEqual([]);
  });
  it('let an instance become ready only from STARTING, and end from any live state', () => {
    expect(instanceStatesBefore('IDLE')).toEqual(['STARTING']);
    expect(instanceStatesBefore('FAILED')).toEqual(['STARTING', 'IDLE', 'DRAINING']);
  });
});
