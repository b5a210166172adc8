import type { Store } from '../store/store.js';
import type { AgentGateway } from './agent-gateway.js';
import type { ControlEvents } from './events.js';

/**
 * Periodically takes back tasks whose lease expired (their agent died or froze) and ends queued
 * tasks that waited past their version's maxQueuedSeconds.
 */
export class LeaseReaper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly gateway: AgentGateway,
    private readonly events: ControlEvents,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch(this.onError)
        .finally(() => (this.running = null));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks it moved. */
  async sweep(): Promise<number> {
    let moved = 0;
    for (;;) {
      const reclaimed = await this.store.reclaimExpiredLeases(200);
      this.gateway.announceReclaimed(reclaimed);
      const expired = await this.store.expireQueuedTasks(200);
      for (const t of expired) {
        this.events.taskEnded(t);
        this.events.versionChanged(t.versionId);
      }
      moved += reclaimed.length + expired.length;
      if (reclaimed.length < 200 && expired.length < 200) return moved;
    }
  }
}
