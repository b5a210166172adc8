import type { ControlConfig } from '../control-config.js';
import type { AssetsService } from './assets-service.js';

const BATCH = 100;

/** The leader's loop that deletes assets past their expiry, with their bytes (see AssetsService.sweepExpired). */
export class AssetSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly assets: AssetsService,
    private readonly config: Pick<ControlConfig, 'assetSweepMs'>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch(this.onError)
        .finally(() => (this.running = null));
    }, this.config.assetSweepMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async sweep(): Promise<void> {
    while ((await this.assets.sweepExpired(BATCH)) === BATCH);
  }
}
