import { backoffMs } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { type TriggerRecord, assetMatches } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';
import { RunnerHealth, isRefusal } from './runner-health.js';
import { LoopRunner, timeCursor } from './trigger-runners.js';
import type { TriggersService } from './triggers-service.js';

/** How often the tenant's newly READY assets are looked for. */
const POLL_MS = 500;
const PAGE = 100;
/**
 * Assets that became READY this long before the cursor are read again: an asset's READY time is
 * taken before its write commits, so one may commit after a later one was read. Those already
 * fired are skipped (and the asset is the task's idempotency key besides).
 */
const MARGIN_MS = 10_000;
const RETRY_MS = { min: 500, max: 30_000 };

/**
 * Starts a task for each of the tenant's assets that becomes READY and matches the trigger's
 * filter, with the asset as its input asset; the cursor (the READY time handled) is stored with
 * each fire, so a restart goes on where it was. An asset the trigger cannot fire for (its
 * function not deployed) puts it in ERROR and is tried again, with the ones after it, after a back-off.
 */
export class AssetRunner extends LoopRunner {
  /** Assets fired for (or passed over) in the margin window, by READY time. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly trigger: Extract<TriggerRecord, { kind: 'asset' }>,
    private readonly triggers: TriggersService,
    private readonly store: Pick<Store, 'triggers' | 'assets'>,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {
    super();
    this.begin(onError);
  }

  protected async run(): Promise<void> {
    const health = new RunnerHealth(this.store, this.trigger, this.onError);
    let cursor = timeCursor(this.trigger);
    let stored = cursor;
    let failures = 0;
    while (!this.stopped.signal.aborted) {
      let waitMs = POLL_MS;
      try {
        cursor = await this.round(cursor);
        // Past assets the filter passed over too, so a restart does not read them again.
        if (cursor > stored) await this.store.triggers.setTriggerCursor(this.trigger.id, String(cursor));
        stored = cursor;
        await health.ok();
        failures = 0;
      } catch (err) {
        if (isRefusal(err)) await health.failed(err.message);
        else this.onError(err);
        waitMs = backoffMs(++failures, RETRY_MS.min, RETRY_MS.max);
      }
      for (const [id, at] of this.seen) if (at < cursor - MARGIN_MS) this.seen.delete(id);
      await this.sleep(waitMs);
    }
  }

  /** Fires for the assets READY since the cursor (less the margin); returns the new cursor. */
  private async round(cursor: number): Promise<number> {
    const { filter, tenantId } = this.trigger;
    let from = { at: cursor - MARGIN_MS, id: '' };
    for (;;) {
      const page = await this.store.assets.listReadyAssets(tenantId, from, PAGE);
      for (const a of page) {
        if (this.stopped.signal.aborted) return cursor;
        const readyAt = a.readyAt!;
        // Assets READY before the trigger was made are not its events (the margin reaches back past its creation).
        if (!this.seen.has(a.id) && readyAt >= this.trigger.createdAt && assetMatches(filter, a)) {
          const info = { assetId: a.id, name: a.name, contentType: a.contentType, sizeBytes: a.sizeBytes, sha256: a.sha256, taskId: a.taskId };
          await this.triggers.fire(this.trigger, { key: a.id, event: { asset: info }, input: info, inputAssets: [a.id], cursor: String(Math.max(cursor, readyAt)) });
        }
        this.seen.set(a.id, readyAt);
        cursor = Math.max(cursor, readyAt);
        from = { at: readyAt, id: a.id };
      }
      if (page.length < PAGE) return cursor;
    }
  }
}
