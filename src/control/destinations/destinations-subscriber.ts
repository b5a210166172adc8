import type { Clock } from '../../core/clock.js';
import { DEFAULT_MAX_DELIVERY_HOURS, type DeliveryRecord, deliveryId, deliveryKind, destinationFor, mergeDestinations } from '../../core/destinations.js';
import { type TaskOutcome, isFinalOutcome } from '../../core/outcomes.js';
import { outcomePayload } from '../../core/outcome-payload.js';
import { isTerminalTask } from '../../core/states.js';
import type { VersionSpec } from '../../core/types.js';
import type { Store } from '../../store/store.js';
import type { OutcomeSubscriber } from '../outcomes/outcome-dispatcher.js';

/**
 * Turns each task's end into a delivery to its destination (the task's own over its version's),
 * stored before the outcome is acknowledged: a crash in between hands the outcome over again and
 * the delivery, whose id is the outcome's, is not stored twice. The delivery worker sends it.
 */
export class DestinationsSubscriber implements OutcomeSubscriber {
  readonly name = 'destinations';
  /** Versions are immutable: their destinations are read once. */
  private readonly versionDestinations = new Map<string, VersionSpec['destinations'] | null>();

  constructor(
    private readonly store: Pick<Store, 'tasks' | 'catalog' | 'deliveries'>,
    private readonly clock: Clock,
    /** Called once deliveries were stored, to send them without waiting for a poll. */
    private readonly onStored: () => void,
  ) {}

  async handle(outcomes: TaskOutcome[]): Promise<void> {
    const deliveries: DeliveryRecord[] = [];
    const final = outcomes.filter(isFinalOutcome);
    // Most ended tasks have no destination: one read tells which have their own, the version cache the rest.
    const own = await this.store.tasks.tasksWithDestinations(final.map((o) => o.taskId));
    for (const o of final) {
      const defaults = await this.versionDefaults(o.tenantId, o.versionId);
      if (!defaults && !own.has(o.taskId)) continue;
      const task = await this.store.tasks.getTask(o.tenantId, o.taskId);
      // A task deleted since, or (never) not ended: nothing to send.
      if (!task || !isTerminalTask(task.status)) continue;
      const merged = mergeDestinations(defaults, task.destinations);
      const picked = merged && destinationFor(merged, task.status);
      if (!picked) continue;
      const now = this.clock.now();
      const kind = deliveryKind(picked.destination);
      deliveries.push({
        id: deliveryId(o.id),
        tenantId: o.tenantId,
        taskId: o.taskId,
        event: picked.event,
        kind,
        destination: picked.destination,
        payload: JSON.stringify(outcomePayload(task, now)),
        depth: kind === 'function' || kind === 'workflow' ? await this.store.deliveries.chainDepth(task.id) : 0,
        status: 'PENDING',
        attempts: 0,
        nextAttemptAt: now,
        deadline: now + (merged.maxDeliveryHours ?? DEFAULT_MAX_DELIVERY_HOURS) * 3_600_000,
        lastError: null,
        lastStatusCode: null,
        resultTaskId: null,
        resultExecutionId: null,
        createdAt: now,
        endedAt: null,
      });
    }
    if (deliveries.length === 0) return;
    await this.store.deliveries.addDeliveries(deliveries);
    this.onStored();
  }

  private async versionDefaults(tenantId: string, versionId: string): Promise<VersionSpec['destinations'] | null> {
    if (!this.versionDestinations.has(versionId)) {
      const version = await this.store.catalog.getVersion(tenantId, versionId);
      this.versionDestinations.set(versionId, version?.spec.destinations ?? null);
    }
    return this.versionDestinations.get(versionId) ?? null;
  }
}
