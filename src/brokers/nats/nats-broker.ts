import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type MsgHdrs, connect, headers as natsHeaders } from '@nats-io/transport-node';
import type { TriggerMessage } from '../../core/trigger-messages.js';
import { type BrokerConnection, consumption } from '../broker.js';

/** How long one pull waits for messages before the loop looks at its stop signal again. */
const PULL_MS = 1_000;
/** Messages one pull asks for: a round trip per batch, not per message. */
const BATCH = 16;
/** A message handed over and neither acknowledged nor refused in this time (its reader died) is handed over again. */
const ACK_WAIT_NS = 10_000_000_000;

/**
 * NATS with JetStream: a durable pull consumer on the stream that holds the subject (Ferry does
 * not create streams: their limits and retention are the operator's), messages acknowledged
 * after its handling (refused with a nak when the handling failed; redelivered after ACK_WAIT
 * when its reader died), pulled in batches; the message id is the stream and its sequence, which a redelivery keeps.
 * A publish goes through JetStream (with the `webhook-id` as its de-duplication id) when a stream
 * holds the subject, else as a plain NATS message, flushed.
 */
export async function connectNats(url: string): Promise<BrokerConnection> {
  const u = new URL(url);
  const nc = await connect({
    servers: `${u.hostname}:${u.port || 4222}`,
    ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
    reconnect: false,
    timeout: 5_000,
  });
  const js: JetStreamClient = jetstream(nc);
  let jsm: JetStreamManager | null = null;
  const manager = async (): Promise<JetStreamManager> => (jsm ??= await jetstreamManager(nc));
  const closed = nc.closed().then((err) => (err instanceof Error ? err : null));

  return {
    closed,
    async consume(subject, name, handle, admit) {
      const m = await manager();
      const stream = await m.streams.find(subject).catch(() => {
        throw new Error(`no JetStream stream holds subject "${subject}"`);
      });
      const durable = name.replace(/[^\w-]/g, '_');
      await m.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, ack_wait: ACK_WAIT_NS, deliver_policy: DeliverPolicy.New, filter_subject: subject });
      const consumer = await js.consumers.get(stream, durable);
      const stopped = new AbortController();
      const loop = (async (): Promise<void> => {
        while (!stopped.signal.aborted) {
          await admit();
          const batch = await consumer.fetch({ max_messages: BATCH, expires: PULL_MS });
          for await (const msg of batch) {
            const message: TriggerMessage = { body: Buffer.from(msg.data), headers: headerRecord(msg.headers), id: `${stream}:${msg.seq}`, source: msg.subject };
            try {
              if (stopped.signal.aborted) throw new Error('stopped');
              await handle(message);
            } catch (err) {
              // This one and the rest of the batch are handed over again at once, to whoever reads next.
              msg.nak();
              batch.stop();
              throw err;
            }
            // Not waited for: an ack that is lost brings the message again, and its task is found by its id.
            msg.ack();
          }
        }
      })();
      return consumption(stopped, loop);
    },
    async publish(subject, body, headers) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(headers)) h.set(k, v);
      const held = await manager()
        .then((m) => m.streams.find(subject))
        .then(
          () => true,
          () => false,
        );
      if (held) await js.publish(subject, body, { headers: h, msgID: headers['webhook-id'] });
      else {
        nc.publish(subject, body, { headers: h });
        await nc.flush();
      }
    },
    async close() {
      await nc.close();
    },
  };
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}
