import type { BrokerKind } from '../core/triggers.js';
import type { BrokerConnection } from './broker.js';
import { connectBroker } from './connect-broker.js';

/**
 * The connections publish destinations send through: one per broker URL, made on first use and
 * made again on the next publish once it is lost (a delivery that failed meanwhile is retried by
 * the delivery worker).
 */
export class BrokerPublishers {
  private readonly connections = new Map<string, Promise<BrokerConnection>>();

  async publish(target: { broker: BrokerKind; url: string; subject: string }, body: string, headers: Record<string, string>): Promise<void> {
    const key = `${target.broker} ${target.url}`;
    let conn = this.connections.get(key);
    if (!conn) {
      conn = connectBroker(target.broker, target.url);
      this.connections.set(key, conn);
      conn.then(
        (c) => void c.closed.then(() => this.connections.get(key) === conn && this.connections.delete(key)),
        () => this.connections.delete(key),
      );
    }
    await (await conn).publish(target.subject, body, headers);
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.then((x) => x.close()).catch(() => {})));
  }
}
