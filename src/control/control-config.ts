/** Timers and bounds of the control plane, parsed once in the composition root. */
export interface ControlConfig {
  /** How long a claimed task's lease lasts without a heartbeat. */
  leaseMs: number;
  /** How often the lease reaper and queue-expiry sweep run. */
  reaperIntervalMs: number;
  /** Fallback period of the reconciler; it also runs on every relevant event. */
  reconcileIntervalMs: number;
  /** First retry back-off; doubles per attempt. */
  retryBaseMs: number;
  /** First back-off before replacing a failed instance; doubles per consecutive failure. */
  restartBaseMs: number;
  /** Consecutive instance failures with none serving that put a deployment in ERROR. */
  maxStartFailures: number;
}

export const DEFAULT_CONTROL_CONFIG: ControlConfig = {
  leaseMs: 30_000,
  reaperIntervalMs: 1_000,
  reconcileIntervalMs: 1_000,
  retryBaseMs: 1_000,
  restartBaseMs: 1_000,
  maxStartFailures: 3,
};
