import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync } from 'mqtt';
import type { TriggerMessage } from '../../core/trigger-messages.js';
import { type BrokerConnection, callbackReading, consumption } from '../broker.js';

/**
 * MQTT (5, or 3.1.1 when the broker speaks no more), QoS 1: a persistent session per consumer
 * (its client id, no clean start), so the broker keeps what is published while Ferry is away;
 * a message's PUBACK is sent only once it is handled. The message id is the `message-id` user
 * property when the publisher set one (MQTT 5); else the packet id with a hash of topic and
 * payload, which a redelivery keeps. A publish is QoS 1 with the headers as user properties.
 */
/** How long a close waits for its DISCONNECT to go out before it cuts the connection. */
const GRACEFUL_END_MS = 1_000;

export async function connectMqtt(url: string, clientId?: string): Promise<BrokerConnection> {
  // A persistent session's messages arrive as soon as it connects, before `consume`: they wait
  // for its handler (and hold the client's incoming packets meanwhile, SUBACK included).
  const reading = callbackReading();
  let onMessage: ((topic: string, payload: Buffer, packet: MqttPacket) => Promise<void>) | null = null;
  let handlerSet!: () => void;
  const handlerReady = new Promise<void>((resolve) => (handlerSet = resolve));
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId: clientId ?? `ferry-pub-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    clean: clientId === undefined,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...(clientId === undefined ? {} : { properties: { sessionExpiryInterval: 0xffffffff } }),
    // The PUBACK goes only once the message is handled; a message not handled gets none.
    customHandleAcks: (topic: string, payload: Buffer, packet: MqttPacket, done: (code: number) => void) => {
      reading.next(async () => {
        await handlerReady;
        await onMessage!(topic, payload, packet);
        done(0);
      });
    },
  });
  let closing = false;
  const closed = new Promise<Error | null>((resolve) => {
    let lastError: Error | null = null;
    client.on('error', (err: Error) => (lastError = err));
    client.on('close', () => resolve(closing ? null : (lastError ?? new Error('the MQTT connection closed'))));
  });

  return {
    closed,
    async consume(topic, _name, handle, admit) {
      onMessage = async (t, payload, packet) => {
        await admit();
        await handle(mqttMessage(t, payload, packet));
      };
      handlerSet();
      // A message of the session that fails holds the SUBACK back for good: that ends the wait too.
      await Promise.race([client.subscribeAsync(topic, { qos: 1 }), reading.loop]);
      return consumption(reading.stopped, reading.loop, () => reading.idle());
    },
    async publish(topic, body, headers) {
      // An empty user-property list is a malformed packet to Mosquitto (it drops it, no PUBACK): none then.
      const userProperties = Object.keys(headers).length > 0 ? { userProperties: headers } : {};
      await client.publishAsync(topic, body, { qos: 1, properties: { ...userProperties, contentType: 'application/json' } });
    },
    async close() {
      closing = true;
      // Gracefully (a DISCONNECT), so the broker has let the session go before this consumer comes
      // back under the same client id; forced after a moment, as a message whose handling failed
      // holds the client's incoming packets (no PUBACK is sent for it), which a graceful end waits for.
      const graceful = client.endAsync(false);
      const stuck = await Promise.race([graceful.then(() => false), sleep(GRACEFUL_END_MS).then(() => true)]);
      if (stuck) await client.endAsync(true);
    },
  };
}

interface MqttPacket {
  messageId?: number;
  properties?: { userProperties?: Record<string, string | string[]> };
}

function mqttMessage(topic: string, payload: Buffer, packet: MqttPacket): TriggerMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(packet.properties?.userProperties ?? {})) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const id = headers['message-id'] ?? `${packet.messageId ?? 0}:${createHash('sha256').update(topic).update('\0').update(payload).digest('hex')}`;
  return { body: payload, headers, id, source: topic };
}
