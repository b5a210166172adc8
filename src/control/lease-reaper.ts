import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { ControlConfig } from './control-config.js';
import { recordDeploymentEvent } from './deployment-events.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { Wakeups } from './wakeups/wakeups.js';

const BATCH = 200;

/**
 * Periodically declares nodes whose agent went silent LOST (their instances are replaced
 * elsewhere), takes back tasks whose lease expired (their agent died, froze or was cut off), and
 * ends queued tasks that waited past their version's maxQueuedSeconds.
 */
export class LeaseReaper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<Store, 'fleet' | 'tasks' | 'deployments'>,
    private readonly lifecycle: TaskLifecycle,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
    private readonly config: Pick<ControlConfig, 'reaperIntervalMs' | 'nodeLostMs'>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch(this.onError)
        .finally(() => (this.running = null));
    }, this.config.reaperIntervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; returns how many tasks it moved. */
  async sweep(): Promise<number> {
    await this.sweepLostNodes();
    let moved = 0;
    for (;;) {
      const reclaimed = await this.store.tasks.reclaimExpiredLeases(BATCH);
      this.lifecycle.moved(reclaimed.map((r) => r.task));
      const expired = await this.store.tasks.expireQueuedTasks(BATCH);
      this.lifecycle.moved(expired);
      moved += reclaimed.length + expired.length;
      if (reclaimed.length < BATCH && expired.length < BATCH) return moved;
    }
  }

  /** Silent nodes: their instances end FAILED so the reconciler replaces them; their leases run out on their own. */
  private async sweepLostNodes(): Promise<void> {
    const now = this.clock.now();
    const reason = `its node sent no heartbeat for ${this.config.nodeLostMs / 1000} s`;
    const { instances } = await this.store.fleet.markLostNodes(now - this.config.nodeLostMs, reason);
    for (const i of instances) {
      await recordDeploymentEvent(this.store, this.wakeups, { versionId: i.versionId, at: now, kind: 'instance', subject: i.id, from: 'live', to: 'FAILED', reason });
      this.wakeups.emit({ kind: 'version', versionId: i.versionId });
    }
  }
}
