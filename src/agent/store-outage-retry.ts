import type { AgentProtocol } from '../core/agent-protocol.js';
import { sleep } from '../core/clock.js';
import { FerryError } from '../core/errors.js';

const BACKOFF_MS = { min: 100, max: 2_000 };

/**
 * The control plane's gateway as the in-process agent uses it: a call the store could not take
 * (STORE_UNAVAILABLE, a database outage) is tried again, backing off, until the store takes it,
 * as the HTTP client does for a remote agent. An outage then delays the local agent's reports
 * (a ready instance, a result) instead of losing them. `stopped` ends the waiting: the call then
 * throws what it last threw. Proxies, so every protocol method is covered without a list here.
 */
export function retryWhileStoreUnavailable(gateway: AgentProtocol, stopped: AbortSignal): AgentProtocol {
  return new Proxy(gateway, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'subscribe') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        for (let failures = 0; ; failures++) {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            if (!(err instanceof FerryError && err.code === 'STORE_UNAVAILABLE') || stopped.aborted) throw err;
            await sleep(Math.min(BACKOFF_MS.max, BACKOFF_MS.min * 2 ** failures), stopped);
          }
        }
      };
    },
  });
}
