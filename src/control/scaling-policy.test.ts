import { describe, expect, it } from 'vitest';
import { decideScale, type ScalingMemory } from './scaling-policy.js';

const settings = { minInstances: 0, maxInstances: 4, targetPerInstance: 2, scaleDownDelaySeconds: 10, scaleToZeroAfterSeconds: 30 };
const fresh: ScalingMemory = { lastHighAt: 0, lastWorkAt: 0 };

describe('decideScale', () => {
  it('wants ceil(work / target) clamped to min and max, at once', () => {
    expect(decideScale({ queued: 3, running: 0, current: 0, settings, now: 1000, memory: fresh }).desired).toBe(2);
    expect(decideScale({ queued: 40, running: 0, current: 1, settings, now: 1000, memory: fresh }).desired).toBe(4);
    expect(decideScale({ queued: 0, running: 0, current: 0, settings: { ...settings, minInstances: 1 }, now: 1000, memory: fresh }).desired).toBe(1);
  });
  it('holds during the scale-down window, then shrinks, and waits longer for zero', () => {
    let memory = decideScale({ queued: 8, running: 0, current: 4, settings, now: 0, memory: fresh }).memory;
    const held = decideScale({ queued: 0, running: 2, current: 4, settings, now: 9_000, memory });
    expect(held.desired).toBe(4);
    memory = held.memory;
    expect(decideScale({ queued: 0, running: 2, current: 4, settings, now: 10_000, memory }).desired).toBe(1);
    memory = decideScale({ queued: 0, running: 2, current: 1, settings, now: 10_000, memory }).memory;
    expect(decideScale({ queued: 0, running: 0, current: 1, settings, now: 25_000, memory }).desired).toBe(1);
    expect(decideScale({ queued: 0, running: 0, current: 1, settings, now: 40_000, memory }).desired).toBe(0);
  });
});
