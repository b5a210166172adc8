import type { ChildProcess } from 'node:child_process';

function running(child: ChildProcess | null): child is ChildProcess {
  return child !== null && child.exitCode === null && child.signalCode === null;
}

/** SIGKILL, waiting for the exit. */
export async function kill9(child: ChildProcess | null): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** SIGTERM (after SIGCONT, in case it is frozen), then SIGKILL when it has not exited within 10 s. */
export async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
