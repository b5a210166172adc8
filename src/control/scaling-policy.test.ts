import { describe, expect, it } from 'vitest';
import { FRESH_SCALING_MEMORY as fresh, decideScale } from './scaling-policy.js';

const settings = { minInstances: 0, maxInstances: 4, targetPerInstance: 2, scaleDownDelaySeconds: 10, scaleToZeroAfterSeconds: 30 };

describe('decideScale', () => {
  it('wants ceil(work / target) clamped to min and max, at once', () => {
    expect(decideScale({ queued: 3, running: 0, current: 0, settings, now: 1000, memory: fresh }).desired).toBe(2);
    expect(decideScale({ queued: 40, running: 0, current: 1, settings, now: 1000, memory: fresh }).desired).toBe(4);
    expect(decideScale({ queued: 0, running: 0, current: 0, settings: { ...settings, minInstances: 1 }, now: 1000, memory: fresh }).desired).toBe(1);
  });

  it('holds for the scale-down window from the first time it sees less work, then shrinks, and waits longer for zero', () => {
    let memory = decideScale({ queued: 8, running: 0, current: 4, settings, now: 0, memory: fresh }).memory;
    // First seen low at 5 s (however long ago the last evaluation was): the window ends at 15 s.
    const held = decideScale({ queued: 0, running: 2, current: 4, settings, now: 5_000, memory });
    expect(held).toMatchObject({ desired: 4, recheckAt: 15_000 });
    memory = held.memory;
    expect(decideScale({ queued: 0, running: 2, current: 4, settings, now: 14_999, memory }).desired).toBe(4);
    expect(decideScale({ queued: 0, running: 2, current: 4, settings, now: 15_000, memory }).desired).toBe(1);
    // The work ends; first seen idle at 20 s, so zero is due at 50 s.
    memory = decideScale({ queued: 0, running: 0, current: 1, settings, now: 20_000, memory }).memory;
    expect(decideScale({ queued: 0, running: 0, current: 1, settings, now: 49_999, memory })).toMatchObject({ desired: 1, recheckAt: 50_000 });
    expect(decideScale({ queued: 0, running: 0, current: 1, settings, now: 50_000, memory }).desired).toBe(0);
  });

  it('restarts the windows when work comes back', () => {
    let memory = decideScale({ queued: 0, running: 0, current: 2, settings, now: 0, memory: fresh }).memory;
    expect(memory).toEqual({ lowSince: 0, idleSince: 0 });
    memory = decideScale({ queued: 4, running: 0, current: 2, settings, now: 8_000, memory }).memory;
    expect(memory).toEqual({ lowSince: null, idleSince: null });
    expect(decideScale({ queued: 0, running: 0, current: 2, settings, now: 12_000, memory })).toMatchObject({ desired: 2, recheckAt: 22_000 });
  });
});
