import { FerryError } from '../../core/errors.js';
import type { TriggerRecord } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';

/**
 * A runner's view of its trigger's health, written to the store only when it changes (ACTIVE ↔
 * ERROR with the reason), so a runner that fires every second does not write a state every second.
 */
export class RunnerHealth {
  /** ACTIVE, or the reason it is not (the last one written). */
  private known: string;

  constructor(
    private readonly store: Pick<Store, 'triggers'>,
    private readonly trigger: TriggerRecord,
    private readonly onError: (err: unknown) => void,
  ) {
    this.known = trigger.state === 'ERROR' ? (trigger.lastError ?? 'error') : trigger.state === 'STARTING' ? 'starting' : 'ACTIVE';
  }

  async ok(): Promise<void> {
    if (this.known === 'ACTIVE') return;
    this.known = 'ACTIVE';
    await this.store.triggers.setTriggerHealth(this.trigger.id, 'ACTIVE', null).catch(this.onError);
  }

  async failed(reason: string): Promise<void> {
    if (this.known === reason) return;
    this.known = reason;
    await this.store.triggers.setTriggerHealth(this.trigger.id, 'ERROR', reason).catch(this.onError);
  }
}

/** Whether an error is the trigger's own (its function gone or not deployed, its template or input refused), not a passing outage. */
export function isRefusal(err: unknown): err is FerryError {
  return err instanceof FerryError && err.status < 500 && err.code !== 'RATE_LIMITED';
}
