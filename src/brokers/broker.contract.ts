import { expect, it } from 'vitest';
import type { TriggerMessage } from '../core/trigger-messages.js';
import type { BrokerConnection } from './broker.js';

/** What one broker under test needs: a fresh address (and the consumer name to read it with), removed afterwards. */
export interface BrokerFixture {
  /** Connects as the given durable consumer (or, without one, as a publisher). */
  connect(consumer?: string): Promise<BrokerConnection>;
  /** A new address of this test's own, ready to be read and published to. */
  address(): Promise<string>;
}

const waitFor = async (check: () => boolean, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The broker port's contract, run against each real broker (brokers.test.ts). */
export function brokerContract(fx: BrokerFixture): void {
  const admitAll = async (): Promise<void> => {};

  it('hands published messages over in order, with their headers, and a message acknowledged once handled is not handed over again', async () => {
    const address = await fx.address();
    const name = `c-${Math.random().toString(36).slice(2, 8)}`;
    const publisher = await fx.connect();
    const got: TriggerMessage[] = [];
    let conn = await fx.connect(name);
    let reading = await conn.consume(address, name, async (m) => void got.push(m), admitAll);
    for (let i = 0; i < 5; i++) await publisher.publish(address, JSON.stringify({ i }), { 'webhook-id': `msg_${i}`, kind: 'test' });
    await waitFor(() => got.length === 5);
    expect(got.map((m) => JSON.parse(m.body.toString()))).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(got[0]!.headers).toMatchObject({ kind: 'test' });
    expect(new Set(got.map((m) => m.id)).size).toBe(5);
    await reading.stop();
    await conn.close();

    conn = await fx.connect(name);
    reading = await conn.consume(address, name, async (m) => void got.push(m), admitAll);
    await publisher.publish(address, JSON.stringify({ i: 5 }), { 'webhook-id': 'msg_5' });
    await waitFor(() => got.length === 6);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((m) => JSON.parse(m.body.toString()).i)).toEqual([0, 1, 2, 3, 4, 5]);
    await reading.stop();
    await conn.close();
    await publisher.close();
  });

  it('keeps what is published while its consumer is away, and hands a message not acknowledged over again with the same id', async () => {
    const address = await fx.address();
    const name = `c-${Math.random().toString(36).slice(2, 8)}`;
    const publisher = await fx.connect();
    let conn = await fx.connect(name);
    const first: TriggerMessage[] = [];
    let reading = await conn.consume(address, name, async (m) => {
      first.push(m);
      throw new Error('not now');
    }, admitAll);
    await publisher.publish(address, 'plain text', { 'webhook-id': 'msg_a' });
    await expect(reading.done).rejects.toThrow('not now');
    await reading.stop();
    await conn.close();
    await publisher.publish(address, '{"later":true}', { 'webhook-id': 'msg_b' });

    conn = await fx.connect(name);
    const second: TriggerMessage[] = [];
    reading = await conn.consume(address, name, async (m) => void second.push(m), admitAll);
    await waitFor(() => second.length === 2);
    expect(second.map((m) => m.body.toString())).toEqual(['plain text', '{"later":true}']);
    expect(second[0]!.id).toBe(first[0]!.id);
    await reading.stop();
    await conn.close();
    await publisher.close();
  });

  it('pulls nothing more while admit holds it back', async () => {
    const address = await fx.address();
    const name = `c-${Math.random().toString(36).slice(2, 8)}`;
    const publisher = await fx.connect();
    const conn = await fx.connect(name);
    let open = false;
    const got: TriggerMessage[] = [];
    const reading = await conn.consume(address, name, async (m) => void got.push(m), async () => {
      while (!open) await new Promise((r) => setTimeout(r, 20));
    });
    await publisher.publish(address, '1', {});
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    open = true;
    await waitFor(() => got.length === 1);
    await reading.stop();
    await conn.close();
    await publisher.close();
  });

  it('tells when the connection is lost, and a closed one resolves `closed` with null', async () => {
    const conn = await fx.connect();
    await conn.close();
    expect(await conn.closed).toBeNull();
  });
}
