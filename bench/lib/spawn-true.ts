import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * Runs `true` the way Ferry's process runtime runs a job (its own process group, piped stdio, the
 * input on stdin) and resolves with the milliseconds it took to exit: the job-mode floor.
 */
export function spawnTrue(): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    const child = spawn('true', [], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end('{}');
    child.stdin.on('error', () => {});
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolveRun(performance.now() - t0) : reject(new Error(`true exited ${code}`))));
  });
}
