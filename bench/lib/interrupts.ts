/**
 * What a benchmark started is stopped on Ctrl-C or SIGTERM too, not only when it ends: each
 * server and environment registers its clean-up here while it lives; a signal runs them all,
 * then the process exits 130.
 */
const cleanups = new Set<() => Promise<unknown>>();
let installed = false;

/** Registers `cleanup` to run on an interrupt; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  if (!installed) {
    installed = true;
    const stop = (signal: NodeJS.Signals): void => {
      process.stderr.write(`[bench] ${signal}: stopping what the benchmark started\n`);
      void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
