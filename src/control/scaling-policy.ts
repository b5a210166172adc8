import type { ScalingSettings } from '../core/types.js';

/** What the policy remembers between evaluations of one deployment. */
export interface ScalingMemory {
  /** Last time the wanted count was at least the current count (scale-down waits from here). */
  lastHighAt: number;
  /** Last time the deployment had queued or running work (scale-to-zero waits from here). */
  lastWorkAt: number;
}

export interface ScalingInput {
  queued: number;
  running: number;
  /** Instances serving or starting, not draining. */
  current: number;
  settings: ScalingSettings;
  now: number;
  memory: ScalingMemory;
}

/**
 * The autoscaling policy, pure: `ceil((queued + running) / targetPerInstance)` clamped to
 * `[minInstances, maxInstances]`. Growth applies at once; shrinking waits until the wanted count
 * has stayed below the current one for `scaleDownDelaySeconds`, and going to zero also waits
 * `scaleToZeroAfterSeconds` without any work.
 */
export function decideScale(input: ScalingInput): { desired: number; memory: ScalingMemory } {
  const { queued, running, current, settings, now } = input;
  const work = queued + running;
  const wanted = Math.min(settings.maxInstances, Math.max(settings.minInstances, Math.ceil(work / settings.targetPerInstance)));
  const memory: ScalingMemory = {
    lastHighAt: wanted >= current ? now : input.memory.lastHighAt,
    lastWorkAt: work > 0 ? now : input.memory.lastWorkAt,
  };
  if (wanted >= current) return { desired: wanted, memory };
  if (now - memory.lastHighAt < settings.scaleDownDelaySeconds * 1000) return { desired: current, memory };
  if (wanted === 0 && now - memory.lastWorkAt < settings.scaleToZeroAfterSeconds * 1000) return { desired: Math.min(current, 1), memory };
  return { desired: wanted, memory };
}
