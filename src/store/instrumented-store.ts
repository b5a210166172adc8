import type { Store } from './store.js';

/** Told of every store call as it settles: the method, how long it took, and whether it failed. */
export type StoreCallObserver = (operation: string, seconds: number, failed: boolean) => void;

/**
 * The same store, with the duration of every call reported to `observe` (store latency metrics).
 * A proxy rather than a subclass, so it fits every adapter and a new port method is timed without
 * being listed here; calls still run on the adapter itself.
 */
export function instrumentStore(store: Store, observe: StoreCallObserver): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      let timed = wrapped.get(prop);
      if (!timed) {
        const operation = String(prop);
        timed = (...args: unknown[]): unknown => {
          const started = performance.now();
          const settle = (failed: boolean): void => observe(operation, (performance.now() - started) / 1000, failed);
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            result.then(
              () => settle(false),
              () => settle(true),
            );
          } else settle(false);
          return result;
        };
        wrapped.set(prop, timed);
      }
      return timed;
    },
  });
}
