import type { ScalingSettings } from '../core/types.js';

/**
 * What the policy remembers between evaluations of one deployment. Windows start at the first
 * evaluation that sees the low state, never earlier, so a deployment that went a while without
 * an evaluation is not shrunk before its window has really passed.
 */
export interface ScalingMemory {
  /** Since when the wanted count has been below the current one (scale-down waits from here). */
  lowSince: number | null;
  /** Since when the deployment has had no queued or running work (scale-to-zero waits from here). */
  idleSince: number | null;
}

export const FRESH_SCALING_MEMORY: ScalingMemory = { lowSince: null, idleSince: null };

export interface ScalingInput {
  queued: number;
  running: number;
  /** Instances serving or starting, not draining. */
  current: number;
  settings: ScalingSettings;
  now: number;
  memory: ScalingMemory;
}

export interface ScalingDecision {
  desired: number;
  memory: ScalingMemory;
  /** When a held-back scale-down is due: evaluate again then, not on the next poll. */
  recheckAt: number | null;
}

/**
 * The autoscaling policy, pure: `ceil((queued + running) / targetPerInstance)` clamped to
 * `[minInstances, maxInstances]`. Growth applies at once; shrinking waits until the wanted count
 * has stayed below the current one for `scaleDownDelaySeconds`, and going to zero also waits
 * `scaleToZeroAfterSeconds` without any work.
 */
export function decideScale(input: ScalingInput): ScalingDecision {
  const { queued, running, current, settings, now } = input;
  const work = queued + running;
  const wanted = Math.min(settings.maxInstances, Math.max(settings.minInstances, Math.ceil(work / settings.targetPerInstance)));
  const memory: ScalingMemory = {
    lowSince: wanted >= current ? null : (input.memory.lowSince ?? now),
    idleSince: work > 0 ? null : (input.memory.idleSince ?? now),
  };
  if (memory.lowSince === null) return { desired: wanted, memory, recheckAt: null };
  const shrinkAt = memory.lowSince + settings.scaleDownDelaySeconds * 1000;
  if (now < shrinkAt) return { desired: current, memory, recheckAt: shrinkAt };
  const zeroAt = (memory.idleSince ?? now) + settings.scaleToZeroAfterSeconds * 1000;
  if (wanted === 0 && now < zeroAt) return { desired: Math.min(current, 1), memory, recheckAt: zeroAt };
  return { desired: wanted, memory, recheckAt: null };
}
