import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminalTask } from '../src/core/states.js';
import { FerryServer, alive, eventually, jobFunction, pidsFrom } from './helpers/ferry-server.js';

describe('kill -9 of the server mid-run', () => {
  const server = new FerryServer(['--gpus', 'none']);
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-kill-'));
  afterAll(async () => {
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loses no acknowledged task: after each restart every task ends or runs again as a new attempt', async () => {
    await server.start();
    const ledger = join(scratch, 'ledger');
    const fn = await server.client.createFunction(jobFunction('work', {}, { concurrency: 4 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const acknowledged: string[] = [];
    for (let i = 0; i < 60; i++) acknowledged.push((await server.client.submit({ functionId: fn.id, input: { sleepMs: 150, ledger, output: i } })).id);

    for (let round = 0; round < 2; round++) {
      // Kill while tasks are running, then start again on the same data directory.
      await eventually(async () => ((await server.client.listTasks({ status: 'RUNNING', limit: 1 })).items.length > 0 ? true : undefined), 15_000, 'a running task');
      await server.kill9();
      await server.start();
    }

    const final = await eventually(async () => {
      const tasks = await Promise.all(acknowledged.map((id) => server.client.getTask(id)));
      return tasks.every((t) => isTerminalTask(t.status)) ? tasks : undefined;
    }, 60_000, 'every task to end');
    expect(final.map((t) => t.status)).toEqual(acknowledged.map(() => 'SUCCEEDED'));
    final.forEach((t, i) => expect(t.output).toBe(i));
    const rerun = final.filter((t) => t.attempt > 1);
    expect(rerun.length).toBeGreaterThan(0);
    // Every success the store recorded came from a run that really happened, once per task.
    const runs = readFileSync(ledger, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]);
    for (const t of final) expect(runs.some(([id, attempt]) => id === t.id && Number(attempt) === t.attempt)).toBe(true);
  }, 120_000);

  it('stops the work a killed server left running when it starts again, and runs the task again', async () => {
    const pidFile = join(scratch, 'orphan.pid');
    const fn = await server.client.createFunction(jobFunction('long', {}, { retries: 0 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const { id } = await server.client.submit({ functionId: fn.id, input: { sleepMs: 60_000, pidFile, child: true } });
    const { pid, childPid } = await pidsFrom(pidFile);
    rmSync(pidFile);
    await server.kill9();
    expect(alive(pid)).toBe(true);
    await server.start();
    await eventually(async () => (!alive(pid) && !alive(childPid) ? true : undefined), 5000, 'the orphaned job to be stopped');
    // The task runs again as a new attempt; cancel it rather than wait a minute.
    const again = await eventually(async () => {
      const t = await server.client.getTask(id);
      return t.status === 'RUNNING' && t.attempt === 2 ? t : undefined;
    }, 15_000, 'attempt 2 to run');
    expect(again.attempt).toBe(2);
    await server.client.cancelTask(id);
    expect((await server.client.wait(id, { timeoutMs: 10_000 })).status).toBe('CANCELLED');
  }, 60_000);
});
