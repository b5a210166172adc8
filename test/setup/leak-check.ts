import { afterAll } from 'vitest';

/**
 * Fails a test file that leaves child processes or handles behind (STYLE.md 10): every test must
 * stop the servers, processes and timers it started.
 */
afterAll(async () => {
  // Give closing sockets and exiting children a moment to be reaped.
  for (let i = 0; i < 50 && liveChildren().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = liveChildren();
  if (left.length > 0) throw new Error(`test file left ${left.length} child process(es) running: ${left.join(', ')}`);
});

function liveChildren(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is { pid: number; spawnfile: string; exitCode: number | null; signalCode: string | null } =>
      typeof h === 'object' && h !== null && h.constructor?.name === 'ChildProcess')
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => `${c.spawnfile}[${c.pid}]`);
}
