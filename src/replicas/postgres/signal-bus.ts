import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Signal, SignalBus } from '../../core/replicas.js';

/** NOTIFY payloads must stay under 8,000 bytes; a batch is cut well before. */
const MAX_PAYLOAD = 7_000;
const RECONNECT = { minMs: 100, maxMs: 5_000 };
/** Signals that mean the same however often they arrive in one batch. */
const IDEMPOTENT = new Set<Signal['kind']>(['version', 'assignments', 'capacity', 'instance-ready', 'deployment-reset', 'fleet', 'outcomes']);

interface Envelope {
  from: string;
  signals: Signal[];
}

/**
 * Signals between replicas through PostgreSQL's LISTEN/NOTIFY: no extra service, and a replica
 * hears another's enqueue within a round trip. Signals published in one tick go out as one
 * NOTIFY, with repeats of idempotent ones folded, so a burst of enqueues costs one statement per
 * tick rather than one per task. The listening connection reconnects with back-off; what was
 * missed meanwhile costs a fallback poll (see `SignalBus`).
 */
export class PgSignalBus implements SignalBus {
  private readonly id = randomUUID();
  private readonly channel: string;
  private handler: ((signal: Signal) => void) | null = null;
  private pending: Signal[] = [];
  private flushing = false;
  private listener: pg.Client | null = null;
  private publisher: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  private constructor(
    private readonly url: string,
    schema: string,
    private readonly onError: (err: unknown) => void,
  ) {
    // One channel per schema, so Ferry installations sharing a database do not hear each other.
    this.channel = `ferry_signals_${schema}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
  }

  /** Connects the listening connection; the bus then keeps it connected until `close()`. */
  static async connect(url: string, options: { schema: string; onError: (err: unknown) => void }): Promise<PgSignalBus> {
    const bus = new PgSignalBus(url, options.schema, options.onError);
    await bus.listen();
    return bus;
  }

  onSignal(handler: (signal: Signal) => void): void {
    this.handler = handler;
  }

  publish(signal: Signal): void {
    if (this.closed) return;
    if (IDEMPOTENT.has(signal.kind) && this.pending.some((p) => sameSignal(p, signal))) return;
    this.pending.push(signal);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const clients = [this.listener, this.publisher];
    this.listener = this.publisher = null;
    await Promise.all(clients.map((c) => c?.end().catch(() => {})));
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.closed) {
        const batch: Signal[] = [];
        let size = 0;
        while (this.pending.length > 0) {
          const next = JSON.stringify(this.pending[0]);
          if (batch.length > 0 && size + next.length > MAX_PAYLOAD) break;
          batch.push(this.pending.shift()!);
          size += next.length + 1;
        }
        const payload: Envelope = { from: this.id, signals: batch };
        try {
          this.publisher ??= await this.connectClient();
          await this.publisher.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(payload)]);
        } catch (err) {
          // Best effort: the signals are dropped, the others' fallback polls cover them.
          this.onError(err);
          this.publisher?.end().catch(() => {});
          this.publisher = null;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async listen(): Promise<void> {
    const client = await this.connectClient();
    client.on('notification', (msg) => this.receive(msg.payload));
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    await client.query(`LISTEN ${this.channel}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.listener = client;
    this.failures = 0;
  }

  private reconnect(broken: pg.Client): void {
    if (this.closed || this.listener !== broken) return;
    this.listener = null;
    broken.end().catch(() => {});
    const retry = (): void => {
      const delay = Math.min(RECONNECT.maxMs, RECONNECT.minMs * 2 ** this.failures++);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.listen().catch((err: unknown) => {
          this.onError(err);
          if (!this.closed) retry();
        });
      }, delay);
    };
    retry();
  }

  private async connectClient(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  private receive(payload: string | undefined): void {
    if (!payload || !this.handler) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      return;
    }
    if (envelope.from === this.id || !Array.isArray(envelope.signals)) return;
    for (const signal of envelope.signals) this.handler(signal);
  }
}

function sameSignal(a: Signal, b: Signal): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
