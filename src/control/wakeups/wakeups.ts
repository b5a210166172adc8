import { EventEmitter } from 'node:events';
import type { Signal, SignalBus } from '../../core/replicas.js';

export type SignalKind = Signal['kind'];
export type SignalOf<K extends SignalKind> = Extract<Signal, { kind: K }>;

/**
 * Wake-ups between the control plane's parts, in this replica and, through a `SignalBus` (several
 * replicas on one PostgreSQL), in the others: one generic `emit` / `on` over the `Signal` kinds, so
 * a new kind is a line in core/replicas.ts. They only wake things up; the store stays the truth,
 * so a missed one costs a poll period, never correctness. Nothing here is stored.
 */
export class Wakeups {
  private readonly emitter = new EventEmitter();

  constructor(private readonly bus: SignalBus | null = null) {
    this.emitter.setMaxListeners(0);
    // A kind this replica does not know (a newer replica's, in a rolling upgrade) has no listener.
    bus?.onSignal((signal) => this.deliver(signal));
  }

  /** Wakes this replica's listeners of the signal's kind, and the other replicas'. */
  emit(signal: Signal): void {
    this.deliver(signal);
    this.bus?.publish(signal);
  }

  /** Wakes only the other replicas' listeners: for a signal this replica has already acted on in its own way. */
  tellOthers(signal: Signal): void {
    this.bus?.publish(signal);
  }

  /** Listens to one kind, whichever replica emitted it; returns the removal. */
  on<K extends SignalKind>(kind: K, listener: (signal: SignalOf<K>) => void): () => void {
    const l = listener as (signal: Signal) => void;
    this.emitter.on(kind, l);
    return () => this.emitter.off(kind, l);
  }

  private deliver(signal: Signal): void {
    this.emitter.emit(signal.kind, signal);
  }
}
