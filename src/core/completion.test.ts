import { describe, expect, it } from 'vitest';
import { decideCompletion, decideReclaim, retryDelayMs } from './completion.js';

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
