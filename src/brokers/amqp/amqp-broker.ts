import { createHash } from 'node:crypto';
import { type ConsumeMessage, connect } from 'amqplib';
import type { TriggerMessage } from '../../core/trigger-messages.js';
import { type BrokerConnection, callbackReading, consumption } from '../broker.js';

/** Messages the broker hands over before earlier ones are acknowledged: back-pressure at the broker. */
const PREFETCH = 16;

/**
 * RabbitMQ over AMQP 0-9-1: a durable queue (declared if missing), consumed with manual
 * acknowledgements and a prefetch window, so the broker sends no more while handling waits. The
 * message id is its `messageId` property when the publisher set one; else a hash of its content
 * and properties, which a redelivery keeps (AMQP assigns no id of its own: two publishes of the
 * same bytes and properties without a messageId are then one event). A publish goes through a
 * confirm channel to `exchange/routingKey`, or to the default exchange with the routing key alone.
 */
export async function connectAmqp(url: string): Promise<BrokerConnection> {
  const conn = await connect(url, { timeout: 5_000 });
  let closing = false;
  const closed = new Promise<Error | null>((resolve) => {
    let lastError: Error | null = null;
    conn.on('error', (err: Error) => (lastError = err));
    conn.on('close', (err?: Error) => resolve(closing ? null : (err ?? lastError ?? new Error('the AMQP connection closed'))));
  });
  const publisher = await conn.createConfirmChannel();

  return {
    closed,
    async consume(queue, _name, handle, admit) {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: true });
      await ch.prefetch(PREFETCH);
      const reading = callbackReading();
      const { consumerTag } = await ch.consume(queue, (msg: ConsumeMessage | null) => {
        if (!msg) reading.fail(new Error(`the broker cancelled the consumer of queue "${queue}" (was it deleted?)`));
        else
          reading.next(async () => {
            await admit();
            await handle(amqpMessage(queue, msg));
            ch.ack(msg);
          });
      });
      return consumption(reading.stopped, reading.loop, async () => {
        await ch.cancel(consumerTag).catch(() => {});
        await reading.idle();
        await ch.close().catch(() => {});
      });
    },
    async publish(address, body, headers) {
      const slash = address.indexOf('/');
      const [exchange, routingKey] = slash < 0 ? ['', address] : [address.slice(0, slash), address.slice(slash + 1)];
      publisher.publish(exchange, routingKey, Buffer.from(body), { persistent: true, contentType: 'application/json', messageId: headers['webhook-id'], headers });
      await publisher.waitForConfirms();
    },
    async close() {
      closing = true;
      await conn.close().catch(() => {});
    },
  };
}

function amqpMessage(queue: string, msg: ConsumeMessage): TriggerMessage {
  const p = msg.properties;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.headers ?? {})) headers[k] = typeof v === 'string' ? v : JSON.stringify(v);
  for (const k of ['contentType', 'correlationId', 'messageId', 'type', 'appId'] as const) if (p[k] !== undefined) headers[k] = String(p[k]);
  const id = p.messageId ? String(p.messageId) : `sha256:${createHash('sha256').update(JSON.stringify(p)).update(msg.content).digest('hex')}`;
  return { body: msg.content, headers, id, source: queue };
}
