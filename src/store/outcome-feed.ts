import { FerryError } from '../core/errors.js';
import type { TaskOutcome } from '../core/outcomes.js';

/**
 * The outcome feed: a record of every attempt's end (each terminal move of a task, and each retry
 * scheduled), written in the same transaction as the move, read by named consumers that each keep
 * a cursor in the store. Delivery is at least once: a consumer that handled outcomes but died
 * before acknowledging them reads them again, under the same ids. Outcomes come in feed order,
 * which keeps each task's outcomes in the order they happened, and a position once read past is
 * never filled in later (on PostgreSQL, where concurrent transactions commit out of order, an
 * outcome is handed out only once every transaction that began before it has ended).
 */
export interface OutcomeFeed {
  /** Registers a consumer if it is new; it starts at the oldest outcome the feed still keeps. */
  registerConsumer(name: string): Promise<void>;
  /** Up to `limit` outcomes past the consumer's cursor, in feed order. Throws NOT_FOUND for an unregistered consumer. */
  readOutcomes(consumer: string, limit: number): Promise<TaskOutcome[]>;
  /** Moves the consumer's cursor past `through` and every outcome before it; a cursor never moves back. */
  ackOutcomes(consumer: string, through: TaskOutcome): Promise<void>;
  /**
   * Deletes the outcomes every registered consumer is past (none while no consumer is registered),
   * and those recorded before `before` whatever the cursors, so a consumer that stopped for good
   * does not keep the feed growing. Returns how many went.
   */
  pruneOutcomes(before: number): Promise<number>;
}

/** A consumer name the feed does not know: it must register first (every adapter answers so). */
export function unknownConsumer(name: string): FerryError {
  return new FerryError('NOT_FOUND', `no outcome feed consumer is registered as "${name}"`);
}
