import type { TriggerMessage } from '../core/trigger-messages.js';

/**
 * The port to a message broker (NATS JetStream, Redis Streams, RabbitMQ over AMQP 0-9-1, MQTT):
 * read a source as a durable consumer, acknowledging each message only once its handler has
 * resolved, and publish a message, resolving only once the broker has taken it. A connection
 * does not reconnect by itself: `closed` resolves when it is lost, and its owner (a trigger's
 * runner) decides when to connect again, so an outage is seen and shown, not hidden.
 */
export interface BrokerConnection {
  /**
   * Reads `address` (a subject, stream, queue or topic) as the durable consumer `name`: messages
   * published while no one read are read when it comes back, and one handed over but not
   * acknowledged before a crash is handed over again, with the same `id`. Messages go to `handle`
   * one at a time; each is acknowledged once `handle` resolves. `admit` is awaited before more
   * are pulled (back-pressure). Resolves once reading has begun, with `stop`, which ends it, and
   * `done`, which rejects when reading failed (a handler threw: that message was not acknowledged).
   */
  consume(address: string, name: string, handle: (m: TriggerMessage) => Promise<void>, admit: () => Promise<void>): Promise<Consumption>;
  /** Sends one message to `address`; resolves once the broker confirmed it (PubAck, XADD, publisher confirm, PUBACK). */
  publish(address: string, body: string, headers: Record<string, string>): Promise<void>;
  /** Resolves when the connection ends, with the reason when it was lost rather than closed. */
  readonly closed: Promise<Error | null>;
  close(): Promise<void>;
}

export interface Consumption {
  stop(): Promise<void>;
  /** Resolves once stopped; rejects with the reason when reading failed. */
  done: Promise<void>;
}

/** A consume loop as a Consumption: `stop` aborts it and waits; `done` is the loop itself. */
export function consumption(stopped: AbortController, loop: Promise<void>, cleanUp: () => Promise<void> = async () => {}): Consumption {
  const done = loop.finally(cleanUp);
  done.catch(() => {});
  return {
    done,
    stop: async () => {
      stopped.abort();
      await done.catch(() => {});
    },
  };
}

/**
 * For clients that push messages through a callback (AMQP, MQTT): the steps run one at a time in
 * the order given; once one fails, `loop` rejects and no later step runs (their messages stay
 * unacknowledged, and come again on the next connection).
 */
export function callbackReading(): { stopped: AbortController; loop: Promise<void>; next(step: () => Promise<void>): void; fail(err: Error): void; idle(): Promise<void> } {
  const stopped = new AbortController();
  let failed = false;
  let chain: Promise<void> = Promise.resolve();
  let reject!: (err: Error) => void;
  const loop = new Promise<void>((resolve, rej) => {
    reject = rej;
    stopped.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // A step may fail before anyone awaits the loop (a session's first message, before `consume`).
  loop.catch(() => {});
  const fail = (err: Error): void => {
    failed = true;
    reject(err);
  };
  return {
    stopped,
    loop,
    fail,
    next(step) {
      chain = chain.then(() => (failed || stopped.signal.aborted ? undefined : step())).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    },
    idle: () => chain,
  };
}
