import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { connectAsync as mqttConnect } from 'mqtt';
import type { BrokerKind } from '../../src/core/triggers.js';

/** The brokers this machine runs, each test with addresses of its own. */
export const BROKER_URLS: Record<BrokerKind, string> = {
  nats: process.env.FERRY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  redis: process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  amqp: process.env.FERRY_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  mqtt: process.env.FERRY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
};

/** The host and port of a broker URL, for a proxy in front of it. */
export function brokerTarget(kind: BrokerKind): { host: string; port: number } {
  const u = new URL(BROKER_URLS[kind]);
  return { host: u.hostname, port: Number(u.port) };
}

/** A URL of the same broker at another port (a proxy's). */
export function brokerUrlAt(kind: BrokerKind, port: number): string {
  const u = new URL(BROKER_URLS[kind]);
  u.port = String(port);
  return u.toString();
}

export interface TestAddress {
  /** What a trigger reads: a NATS subject a new stream holds, a Redis stream key, an AMQP queue, an MQTT topic. */
  address: string;
  /** Publishes with the broker's own client library (QoS 1, persistent, with a de-duplication id where the broker has one). */
  publish(body: string, id: string): Promise<void>;
  /** Messages handed to a consumer and not acknowledged, where the broker tells (NATS, Redis, AMQP); null for MQTT. */
  unacknowledged(): Promise<number | null>;
  /** Removes the address (and closes the clients); MQTT sessions of `clientIds` are ended too. */
  remove(clientIds?: string[]): Promise<void>;
}

/** A fresh address on a broker, with a publisher. */
export async function testAddress(kind: BrokerKind, tag: string): Promise<TestAddress> {
  const url = BROKER_URLS[kind];
  const unique = `${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  switch (kind) {
    case 'nats': {
      const nc = await natsConnect({ servers: new URL(url).host });
      const jsm = await jetstreamManager(nc);
      const stream = `ferry_test_${unique.replace(/-/g, '_')}`;
      const subject = `ferry.test.${unique}.jobs`;
      await jsm.streams.add({ name: stream, subjects: [subject] });
      const js = jsm.jetstream();
      return {
        address: subject,
        publish: async (body, id) => {
          const h = natsHeaders();
          h.set('k', 'v');
          await js.publish(subject, body, { msgID: id, headers: h });
        },
        unacknowledged: async () => {
          const consumers = await jsm.consumers.list(stream).next();
          return consumers.reduce((n, c) => n + c.num_ack_pending + c.num_pending, 0);
        },
        remove: async () => {
          await jsm.streams.delete(stream);
          await nc.close();
        },
      };
    }
    case 'redis': {
      const redis = new Redis(url);
      const key = `ferry-test-${unique}`;
      return {
        address: key,
        publish: async (body) => void (await redis.xadd(key, '*', 'data', body, 'k', 'v')),
        unacknowledged: async () => {
          // Entries read and not acknowledged, and entries not read yet (`lag`), over every group.
          const groups = (await redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
          const field = (g: unknown[], name: string): number => (g.includes(name) ? Number(g[g.indexOf(name) + 1] ?? 0) : 0);
          return groups.reduce((n, g) => n + field(g, 'pending') + field(g, 'lag'), 0);
        },
        remove: async () => {
          await redis.del(key);
          redis.disconnect();
        },
      };
    }
    case 'amqp': {
      const conn = await amqpConnect(url);
      const ch = await conn.createConfirmChannel();
      const queue = `ferry-test-${unique}`;
      await ch.assertQueue(queue, { durable: true });
      return {
        address: queue,
        publish: async (body, id) => {
          ch.sendToQueue(queue, Buffer.from(body), { persistent: true, messageId: id, headers: { k: 'v' } });
          await ch.waitForConfirms();
        },
        unacknowledged: async () => (await ch.checkQueue(queue)).messageCount,
        remove: async () => {
          await ch.deleteQueue(queue);
          await conn.close();
        },
      };
    }
    case 'mqtt': {
      const client = await mqttConnect(url, { protocolVersion: 5, clientId: `ferry-test-pub-${unique}` });
      const topic = `ferry/test/${unique}`;
      return {
        address: topic,
        publish: async (body, id) => void (await client.publishAsync(topic, body, { qos: 1, properties: { userProperties: { 'message-id': id, k: 'v' } } })),
        unacknowledged: async () => null,
        remove: async (clientIds = []) => {
          await client.endAsync();
          for (const clientId of clientIds) await (await mqttConnect(url, { clientId, clean: true, protocolVersion: 5 })).endAsync();
        },
      };
    }
  }
}
