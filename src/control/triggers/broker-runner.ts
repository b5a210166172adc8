import { connectBroker } from '../../brokers/connect-broker.js';
import { backoffMs } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { type TriggerMessage, messageEvent } from '../../core/trigger-messages.js';
import { BROKER_ADDRESS_FIELD, type BrokerKind, type TriggerRecord } from '../../core/triggers.js';
import type { Store } from '../../store/store.js';
import { RunnerHealth, isRefusal } from './runner-health.js';
import { LoopRunner } from './trigger-runners.js';
import type { TriggersService } from './triggers-service.js';

const RETRY_MS = { min: 500, max: 30_000 };
/** How long a queue count is trusted before it is read again, while the consumer is held back. */
const LOAD_CHECK_MS = 500;

export interface BrokerRunnerSettings {
  /** Queued tasks of the trigger's version past which its consumer stops pulling. */
  maxQueued: number;
}

/**
 * Consumes a broker trigger's source: each message becomes a task (its broker id the event key,
 * so a redelivered message finds the task it made), acknowledged only once the task is stored. A
 * message that cannot be made into a task because of the trigger (its function not deployed) or
 * the store stays unacknowledged: the trigger goes to ERROR with the reason and the connection is
 * made again after a back-off, when the message comes again. One refused for its own content
 * (too large an input) is acknowledged, so it does not block those behind it, and the reason shown.
 * While the version's queue is over `maxQueued` no message is pulled.
 */
export class BrokerRunner extends LoopRunner {
  private readonly health: RunnerHealth;
  /** The version its last task went to, and that version's queue as last read. */
  private load: { versionId: string; queued: number; at: number } | null = null;

  constructor(
    private readonly trigger: TriggerRecord & { kind: BrokerKind },
    private readonly triggers: TriggersService,
    private readonly store: Pick<Store, 'triggers' | 'tasks'>,
    private readonly clock: Clock,
    private readonly settings: BrokerRunnerSettings,
    private readonly onError: (err: unknown) => void,
  ) {
    super();
    this.health = new RunnerHealth(store, trigger, onError);
    this.begin(onError);
  }

  protected async run(): Promise<void> {
    const { kind, source, id } = this.trigger;
    const address = source[BROKER_ADDRESS_FIELD[kind]]!;
    const name = `ferry-${id}`;
    const stop = new Promise<void>((resolve) => this.stopped.signal.addEventListener('abort', () => resolve(), { once: true }));
    for (let failures = 0; !this.stopped.signal.aborted; ) {
      try {
        const conn = await connectBroker(kind, source.url, name);
        try {
          const reading = await conn.consume(address, name, (m) => this.handle(m), () => this.admit());
          await this.health.ok();
          failures = 0;
          const lost = await Promise.race([conn.closed, reading.done.then(() => null), stop.then(() => null)]);
          await reading.stop();
          if (lost) throw lost;
          await reading.done;
        } finally {
          await conn.close().catch(() => {});
        }
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        await this.health.failed(`${kind} ${redacted(source.url)} ${address}: ${(err as Error).message}`);
        await this.sleep(backoffMs(++failures, RETRY_MS.min, RETRY_MS.max));
      }
    }
  }

  private async handle(m: TriggerMessage): Promise<void> {
    try {
      const { task } = await this.triggers.fire(this.trigger, messageEvent(m));
      // Back-pressure follows the queue of the function it feeds (a workflow's executions queue no tasks of their own).
      if (task && this.load?.versionId !== task.versionId) this.load = { versionId: task.versionId, queued: 0, at: 0 };
    } catch (err) {
      if (isRefusal(err) && (err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'INVALID_REQUEST')) {
        await this.health.failed(`message ${m.id} was refused and dropped: ${err.message}`);
        return;
      }
      throw err;
    }
  }

  /** Waits while the version's queue is over the limit (the broker keeps the messages meanwhile). */
  private async admit(): Promise<void> {
    while (this.load && !this.stopped.signal.aborted) {
      if (this.clock.now() - this.load.at >= LOAD_CHECK_MS) {
        this.load.queued = (await this.store.tasks.versionLoad(this.load.versionId)).queued;
        this.load.at = this.clock.now();
      }
      if (this.load.queued < this.settings.maxQueued) return;
      await this.sleep(LOAD_CHECK_MS);
    }
  }
}

/** A URL as it may be shown: without its password. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
