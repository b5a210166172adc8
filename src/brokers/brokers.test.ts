import { afterAll, describe } from 'vitest';
import { BROKER_KINDS } from '../core/triggers.js';
import { BROKER_URLS, type TestAddress, testAddress } from '../../test/helpers/brokers.js';
import { brokerContract } from './broker.contract.js';
import { connectBroker } from './connect-broker.js';

/*
 * The broker port's contract against the brokers this machine runs (NATS with JetStream, Redis,
 * RabbitMQ, Mosquitto), each test with addresses of its own, removed at the end.
 */
for (const kind of BROKER_KINDS) {
  describe(`broker contract: ${kind}`, () => {
    const made: TestAddress[] = [];
    const sessions: string[] = [];
    afterAll(async () => {
      for (const a of made) await a.remove(sessions.splice(0));
    });
    brokerContract({
      connect: (consumer) => {
        if (consumer) sessions.push(consumer);
        return connectBroker(kind, BROKER_URLS[kind], consumer);
      },
      address: async () => {
        const a = await testAddress(kind, 'contract');
        made.push(a);
        return a.address;
      },
    });
  });
}
