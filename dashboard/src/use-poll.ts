import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  /** The latest answer for the current key (undefined until the first one arrives). */
  data: T | undefined;
  /** The latest failure, cleared by the next success. */
  error: unknown;
  /** Loads again now, e.g. after an action changed what the page shows. */
  refresh: () => void;
}

/**
 * Calls `load` now and again `intervalMs` after each answer, while the component is mounted and
 * `key` stays the same. The next call waits for the previous answer, so a slow server is never
 * asked twice at once; answers that arrive after the key changed are dropped.
 */
export function usePoll<T>(key: string, load: () => Promise<T>, intervalMs: number): Polled<T> {
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown }>({ key, data: undefined, error: null });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const data = await loadRef.current();
        if (!stopped) setState({ key, data, error: null });
      } catch (error) {
        if (!stopped) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error }));
      }
      if (!stopped) timer = setTimeout(() => void run(), intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, intervalMs, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : null, refresh };
}
