import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRuntimeContract } from '../runtime.contract.js';
import { ProcessRuntime } from './process-runtime.js';

/** Whether a host pid still runs: kill(pid, 0) answers ESRCH once it is gone; a zombie has exited too. */
function hostPidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    // An exited child not yet reaped by its parent (or by init) still answers kill(pid, 0).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

runRuntimeContract('process', (stateDir) => new ProcessRuntime(stateDir), {
  runtime: { type: 'process' },
  node: (script) => [process.execPath, '-e', script],
  makeDir: () => mkdtemp(join(tmpdir(), 'ferry-runtime-')),
  isRunning: hostPidRunning,
});
