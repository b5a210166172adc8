import { STORE_SLICES, type Store } from './store.js';

/** Told of every store call as it settles: the method, how long it took, and whether it failed. */
export type StoreCallObserver = (operation: string, seconds: number, failed: boolean) => void;

/**
 * The same store, with the duration of every call, of the store and of each slice, reported to
 * `observe` (store latency metrics) under the method's name (names are unique across slices).
 * Proxies rather than subclasses, so they fit every adapter and a new port method is timed without
 * being listed here; calls still run on the adapter itself.
 */
export function instrumentStore(store: Store, observe: StoreCallObserver): Store {
  const slices = new Map<PropertyKey, unknown>(STORE_SLICES.map((name) => [name, timeMethods(store[name], observe)]));
  return timeMethods(store, observe, slices);
}

/** `target` with each method call timed; `replaced` members are served as given instead. */
function timeMethods<T extends object>(target: T, observe: StoreCallObserver, replaced = new Map<PropertyKey, unknown>()): T {
  const wrapped = new Map<PropertyKey, unknown>(replaced);
  return new Proxy(target, {
    get(object, prop, receiver) {
      if (wrapped.has(prop)) return wrapped.get(prop);
      const value: unknown = Reflect.get(object, prop, receiver);
      if (typeof value !== 'function') return value;
      const operation = String(prop);
      const timed = (...args: unknown[]): unknown => {
        const started = performance.now();
        const settle = (failed: boolean): void => observe(operation, (performance.now() - started) / 1000, failed);
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
        if (result instanceof Promise) {
          result.then(
            () => settle(false),
            () => settle(true),
          );
        } else settle(false);
        return result;
      };
      wrapped.set(prop, timed);
      return timed;
    },
  });
}
