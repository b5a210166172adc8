import { FerryError } from '../../core/errors.js';
import type { TriggerRecord } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';

/**
 * A runner's view of its trigger's health, written to the store only when it changes (ACTIVE ↔
 * ERROR with the reason), so a runner that fires every second does not write a state every second.
 */
export class RunnerHealth {
  private error: string | null;

  constructor(
    private readonly store: Pick<Store, 'triggers'>,
    private readonly trigger: TriggerRecord,
    private readonly onError: (err: unknown) => void,
  ) {
    this.error = trigger.state === 'ERROR' ? (trigger.lastError ?? 'error') : null;
  }

  async ok(): Promise<void> {
    if (this.error === null) return;
    this.error = null;
    await this.store.triggers.setTriggerHealth(this.trigger.id, 'ACTIVE', null).catch(this.onError);
  }

  async failed(reason: string): Promise<void> {
    if (this.error === reason) return;
    this.error = reason;
    await this.store.triggers.setTriggerHealth(this.trigger.id, 'ERROR', reason).catch(this.onError);
  }
}

/** Whether an error is the trigger's own (its function gone or not deployed, its template or input refused), not a passing outage. */
export function isRefusal(err: unknown): err is FerryError {
  return err instanceof FerryError && err.status < 500 && err.code !== 'RATE_LIMITED';
}

/** Exponential back-off from `minMs`, doubling per failure in a row, capped at `maxMs`. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
}
