import type { DeliveryAttempt, DeliveryRecord, DeliveryStatus } from '../core/destinations.js';

/** What an attempt led to, as the delivery worker decided (see core/destinations.ts afterAttempt). */
export interface DeliveryUpdate {
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  /** A function destination's task, once made. */
  resultTaskId?: string;
  /** A workflow destination's execution, once started. */
  resultExecutionId?: string;
}

/**
 * Deliveries of tasks' outcomes to their destinations, and every attempt of each. A delivery is
 * stored once per id; attempts are recorded only while it is PENDING, so one delivered or dead
 * stays so.
 */
export interface DeliveryStore {
  /** Stores the deliveries not stored yet; one whose id is there already stays as it is. */
  addDeliveries(deliveries: DeliveryRecord[]): Promise<void>;
  /** PENDING deliveries due by `now`, soonest first. */
  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]>;
  /** When the soonest PENDING delivery is due; null when none is pending. */
  nextDeliveryAt(): Promise<number | null>;
  /** Records an attempt and its consequence; false (nothing recorded) when the delivery is not PENDING. */
  recordDeliveryAttempt(deliveryId: string, attempt: DeliveryAttempt, update: DeliveryUpdate): Promise<boolean>;
  /** A task's deliveries, oldest first, each with its attempts in order. */
  listDeliveries(tenantId: string, taskId: string): Promise<{ delivery: DeliveryRecord; attempts: DeliveryAttempt[] }[]>;
  /**
   * How many function or workflow destinations led to a task: the depth of the delivery that made
   * it (or started the execution it belongs to) + 1, or 0 for a task no delivery led to.
   */
  chainDepth(taskId: string): Promise<number>;
}
