import { Redis } from 'ioredis';
import type { TriggerMessage } from '../../core/trigger-messages.js';
import { type BrokerConnection, consumption } from '../broker.js';

/** How long one XREADGROUP blocks before the loop looks at its stop signal again. */
const BLOCK_MS = 1_000;
const COUNT = 16;
/** One reader per group: Ferry's runners run on the leader only, so its pending entries are its own. */
const CONSUMER = 'ferry';

/**
 * Redis Streams: a consumer group per trigger (created at the stream's end, with the stream, on
 * first use), entries acknowledged with XACK once handled; entries read but not acknowledged
 * before a crash are read again first (the group's pending list), with the same entry id. An
 * entry's `data` field is the message body and its other fields its headers; an entry without
 * `data` is its fields as JSON. A publish is an XADD of `data` and the headers.
 */
export async function connectRedis(url: string): Promise<BrokerConnection> {
  // No reconnect and no offline queue: a lost connection ends it (see BrokerConnection).
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const closed = new Promise<Error | null>((resolve) => {
    let lastError: Error | null = null;
    redis.on('error', (err: Error) => (lastError = err));
    redis.on('end', () => resolve(lastError ?? new Error('the Redis connection ended')));
  });
  await redis.connect();
  let closing = false;

  return {
    closed: closed.then((err) => (closing ? null : err)),
    async consume(stream, name, handle, admit) {
      await redis.xgroup('CREATE', stream, name, '$', 'MKSTREAM').catch((err: Error) => {
        if (!err.message.includes('BUSYGROUP')) throw err;
      });
      const stopped = new AbortController();
      const loop = (async (): Promise<void> => {
        // First what this consumer was handed before and did not acknowledge, then new entries.
        let from = '0';
        while (!stopped.signal.aborted) {
          await admit();
          const args = ['GROUP', name, CONSUMER, 'COUNT', COUNT, ...(from === '>' ? ['BLOCK', BLOCK_MS] : []), 'STREAMS', stream, from];
          const read = (await redis.call('XREADGROUP', ...args)) as [string, [string, string[]][]][] | null;
          const entries = read?.[0]?.[1] ?? [];
          if (from === '0' && entries.length === 0) from = '>';
          for (const [id, fields] of entries) {
            if (stopped.signal.aborted) return;
            await handle(entryMessage(stream, id, fields));
            await redis.xack(stream, name, id);
          }
        }
      })();
      return consumption(stopped, loop);
    },
    async publish(stream, body, headers) {
      await redis.xadd(stream, '*', 'data', body, ...Object.entries(headers).flat());
    },
    async close() {
      closing = true;
      redis.disconnect();
    },
  };
}

function entryMessage(stream: string, id: string, fields: string[]): TriggerMessage {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!;
  const { data, ...rest } = map;
  return data === undefined ? { body: Buffer.from(JSON.stringify(map)), headers: {}, id, source: stream } : { body: Buffer.from(data), headers: rest, id, source: stream };
}
