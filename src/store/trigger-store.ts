import type { Page } from '../core/types.js';
import type { TriggerParts, TriggerRecord } from '../core/triggers.js';
import type { PageRequest } from './paging.js';

/** A task a trigger made, for the event it made it for. */
export interface TriggerFire {
  triggerId: string;
  /** The event's own key: the tick, the broker's message id, the webhook id, the asset. */
  eventKey: string;
  /** What it started: a task, or an execution (a trigger of a workflow). */
  taskId: string;
  at: number;
}

/** What an owner may change of a trigger: everything but its id, tenant and kind. */
export type TriggerDefinition = Pick<TriggerRecord, 'name' | 'functionId' | 'workflowId' | 'versionId' | 'task' | 'destinations'> & TriggerParts;

/**
 * Triggers and the tasks they made. Names are unique per tenant. A fire is recorded once per event
 * however often it is reported, and only a recorded fire counts toward `fired` and `lastFiredAt`.
 */
export interface TriggerStore {
  /** Throws TRIGGER_EXISTS when the tenant has a trigger of that name already. */
  createTrigger(trigger: TriggerRecord): Promise<void>;
  getTrigger(tenantId: string, triggerId: string): Promise<TriggerRecord | null>;
  /** Any tenant's trigger: for a webhook call (its signature proves the caller) and the leader's runners. */
  triggerById(triggerId: string): Promise<TriggerRecord | null>;
  /** Oldest first. */
  listTriggers(tenantId: string, page: PageRequest): Promise<Page<TriggerRecord>>;
  /** Every tenant's triggers that are not paused, of the given kinds: what the leader runs. */
  listRunnableTriggers(kinds: readonly TriggerRecord['kind'][]): Promise<TriggerRecord[]>;
  /**
   * Replaces the definition; the state, fires and cursor stay. Returns the trigger as it is now,
   * null when there is none; throws TRIGGER_EXISTS when the new name is taken.
   */
  updateTrigger(tenantId: string, triggerId: string, definition: TriggerDefinition, now: number): Promise<TriggerRecord | null>;
  deleteTrigger(tenantId: string, triggerId: string): Promise<boolean>;
  /** Pauses (PAUSED) or resumes (ACTIVE, its last error cleared); returns the trigger as it is now. */
  setTriggerPaused(tenantId: string, triggerId: string, paused: boolean, now: number): Promise<TriggerRecord | null>;
  /**
   * What its runner found: ACTIVE, or ERROR with the reason. A paused trigger stays PAUSED. Not a
   * change of the definition: `updatedAt` stays.
   */
  setTriggerHealth(triggerId: string, state: 'ACTIVE' | 'ERROR', error: string | null): Promise<void>;
  /** Records a fire (once per event key) and, when given, moves the cursor to `cursor`. */
  recordFire(fire: TriggerFire, cursor?: string): Promise<void>;
  /** Moves the cursor past events that made no task (skipped cron ticks, assets the filter passed over). */
  setTriggerCursor(triggerId: string, cursor: string): Promise<void>;
  /** Newest first. */
  listFires(triggerId: string, page: PageRequest): Promise<Page<TriggerFire>>;
}
