import type { BrokerKind } from '../core/triggers.js';
import type { BrokerConnection } from './broker.js';

/**
 * Connects to a broker; its adapter (and client library) is loaded only when first used.
 * `consumer` names a durable reader where the protocol ties it to the connection (MQTT's client
 * id and its session); a connection only for publishing gives none.
 */
export async function connectBroker(kind: BrokerKind, url: string, consumer?: string): Promise<BrokerConnection> {
  switch (kind) {
    case 'nats':
      return (await import('./nats/nats-broker.js')).connectNats(url);
    case 'redis':
      return (await import('./redis/redis-broker.js')).connectRedis(url);
    case 'amqp':
      return (await import('./amqp/amqp-broker.js')).connectAmqp(url);
    case 'mqtt':
      return (await import('./mqtt/mqtt-broker.js')).connectMqtt(url, consumer);
  }
}
