import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.js';
import { afterAttempt, destinationFor, mergeDestinations } from './destinations.js';

describe('destinations', () => {
  const hook = { webhook: { url: 'https://example.com/h', secret: 'whsec_x' } };
  const next = { function: { functionId: 'fn_b' } };

  it('sends success to onSuccess, failed, timed out and expired to onFailure, and cancelled only when asked', () => {
    const d = { onSuccess: next, onFailure: hook };
    expect(destinationFor(d, 'SUCCEEDED')).toEqual({ event: 'success', destination: next });
    for (const s of ['FAILED', 'TIMED_OUT', 'EXPIRED'] as const) expect(destinationFor(d, s)).toEqual({ event: 'failure', destination: hook });
    expect(destinationFor(d, 'CANCELLED')).toBeNull();
    expect(destinationFor({ ...d, includeCancelled: true }, 'CANCELLED')).toEqual({ event: 'failure', destination: hook });
    expect(destinationFor({ onFailure: hook }, 'SUCCEEDED')).toBeNull();
  });

  it('takes each field of the nearer layer over the farther (version, then trigger or submit)', () => {
    expect(mergeDestinations({ onSuccess: hook, onFailure: hook, maxDeliveryHours: 2 }, null, { onSuccess: next })).toEqual({ onSuccess: next, onFailure: hook, maxDeliveryHours: 2 });
    expect(mergeDestinations(undefined, null)).toBeNull();
  });

  it('backs off exponentially to an hour, and gives up once the next try would pass the deadline or the failure is final', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, 3_600_000))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(40, 1000, 3_600_000)).toBe(3_600_000);
    const d = { attempts: 2, deadline: 10_000 };
    expect(afterAttempt(d, null, 5000, 1000)).toEqual({ status: 'DELIVERED', nextAttemptAt: null });
    expect(afterAttempt(d, { final: false }, 5000, 1000)).toEqual({ status: 'PENDING', nextAttemptAt: 9000 });
    expect(afterAttempt(d, { final: false }, 7000, 1000)).toEqual({ status: 'DEAD', nextAttemptAt: null });
    expect(afterAttempt(d, { final: true }, 5000, 1000)).toEqual({ status: 'DEAD', nextAttemptAt: null });
  });
});
