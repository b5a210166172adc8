import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { connectAsync as mqttConnect } from 'mqtt';
import { afterAll, describe } from 'vitest';
import { brokerContract } from './broker.contract.js';
import { connectBroker } from './connect-broker.js';

/*
 * The brokers this machine runs (PostgreSQL's neighbours: NATS with JetStream, Redis, RabbitMQ,
 * Mosquitto), each test with addresses of its own, removed at the end.
 */
const run = Math.random().toString(36).slice(2, 8);
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});
let n = 0;

describe('broker contract: nats (JetStream)', () => {
  const url = process.env.FERRY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  brokerContract({
    connect: () => connectBroker('nats', url),
    address: async () => {
      const stream = `ferry_test_${run}_${++n}`;
      const nc = await natsConnect({ servers: new URL(url).host });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`ferry.test.${run}.${n}.>`] });
      cleanups.push(async () => {
        await jsm.streams.delete(stream);
        await nc.close();
      });
      return `ferry.test.${run}.${n}.jobs`;
    },
  });
});

describe('broker contract: redis (Streams)', () => {
  const url = process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  brokerContract({
    connect: () => connectBroker('redis', url),
    address: async () => {
      const key = `ferry-test-${run}-${++n}`;
      cleanups.push(async () => {
        const r = new Redis(url);
        await r.del(key);
        r.disconnect();
      });
      return key;
    },
  });
});

describe('broker contract: amqp (RabbitMQ)', () => {
  const url = process.env.FERRY_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  brokerContract({
    connect: () => connectBroker('amqp', url),
    address: async () => {
      const queue = `ferry-test-${run}-${++n}`;
      const conn = await amqpConnect(url);
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: true });
      cleanups.push(async () => {
        await ch.deleteQueue(queue);
        await conn.close();
      });
      return queue;
    },
  });
});

describe('broker contract: mqtt (Mosquitto)', () => {
  const url = process.env.FERRY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const sessions: string[] = [];
  brokerContract({
    connect: (consumer) => {
      if (consumer) sessions.push(consumer);
      return connectBroker('mqtt', url, consumer);
    },
    address: async () => {
      cleanups.push(async () => {
        // Ends the persistent sessions the tests made: a clean start with the same client id.
        for (const clientId of sessions.splice(0)) await (await mqttConnect(url, { clientId, clean: true, protocolVersion: 5 })).endAsync();
      });
      return `ferry/test/${run}/${++n}`;
    },
  });
});
