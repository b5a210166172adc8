import { useCallback, useState } from 'react';

export interface Action {
  run: (act: () => Promise<string>) => Promise<void>;
  busy: boolean;
  error: unknown;
  /** What the last successful action did, in words. */
  done: string | null;
}

/** A button's request: one at a time, its failure or its outcome kept for the page to show. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = useCallback(async (act: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await act());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, done };
}
