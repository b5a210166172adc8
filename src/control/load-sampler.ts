import type { LoadSample } from '../core/types.js';
import type { Store } from '../store/store.js';

/** How long load samples are kept. */
export const LOAD_SAMPLE_RETENTION_MS = 24 * 3600_000;
/** A load that has not changed is still written this often, so a timeline has no long gaps. */
const UNCHANGED_SAMPLE_MS = 60_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * Writes what the autoscaler saw of each deployment (queued, running, serving instances,
 * desired) for its timeline: at once when the serving or desired count changed, at most every
 * `everyMs` while only the queue moves, once a minute while nothing does; drops samples older
 * than a day. Fed by the leader's reconciler passes, so one replica writes them.
 */
export class LoadSampler {
  private readonly last = new Map<string, LoadSample>();
  private lastPrune = 0;

  constructor(
    private readonly store: Pick<Store, 'deployments'>,
    private readonly everyMs: number,
  ) {}

  async observe(sample: LoadSample): Promise<void> {
    const last = this.last.get(sample.versionId);
    if (last && last.instances === sample.instances && last.desired === sample.desired) {
      const queueMoved = last.queued !== sample.queued || last.running !== sample.running;
      if (sample.at - last.at < (queueMoved ? this.everyMs : UNCHANGED_SAMPLE_MS)) return;
    }
    await this.store.deployments.addLoadSample(sample);
    this.last.set(sample.versionId, sample);
  }

  forget(versionId: string): void {
    this.last.delete(versionId);
  }

  async prune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.store.deployments.pruneLoadSamples(now - LOAD_SAMPLE_RETENTION_MS);
  }
}
