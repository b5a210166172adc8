import type { TaskRef } from './types.js';

/*
 * What several control-plane replicas on one PostgreSQL share besides the store: signals that
 * wake each other's waiters and loops, and the choice of the one replica that runs the
 * singleton loops. Ports only; the PostgreSQL adapters live in store/postgres.
 */

/** What one replica tells the others (see control/wakeups/wakeups.ts). */
export type Signal =
  | { kind: 'ready'; versionId: string }
  | { kind: 'ended'; taskId: string }
  | { kind: 'version'; versionId: string }
  | { kind: 'assignments'; nodeId: string }
  | { kind: 'cancel'; nodeId: string; ref: TaskRef }
  | { kind: 'instance-ready'; versionId: string }
  | { kind: 'instance-failed'; versionId: string; reason: string }
  | { kind: 'capacity' }
  | { kind: 'fleet' }
  | { kind: 'deployment-reset'; versionId: string }
  | { kind: 'outcomes' }
  | { kind: 'triggers' }
  | { kind: 'workflows' };

/**
 * Carries signals between control-plane replicas. Delivery is best effort: a lost signal costs
 * a fallback poll, never correctness.
 */
export interface SignalBus {
  /** Sends a signal to every other replica. */
  publish(signal: Signal): void;
  /** Registers the handler of signals published by other replicas. */
  onSignal(handler: (signal: Signal) => void): void;
}

/**
 * Which replica runs the control plane's singleton loops (the reconciler and the lease reaper):
 * two of them placing instances or taking back leases at once would place twice. One replica
 * on SQLite is always the leader; replicas on PostgreSQL elect one through the database.
 */
export interface Leadership {
  /**
   * Starts taking part: `onChange(true)` when this replica becomes the leader, `onChange(false)`
   * when it stops being it (its hold on the database was lost).
   */
  start(onChange: (leader: boolean) => void): void;
  /** Stops taking part and gives the lead up, so another replica takes it at once. */
  stop(): Promise<void>;
}

/** The only replica: the leader from its start. */
export const soleLeader: Leadership = {
  start: (onChange) => onChange(true),
  stop: async () => {},
};
