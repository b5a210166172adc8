import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TaskOutcome, outcomeId } from '../src/core/outcomes.js';
import { isTerminalTask } from '../src/core/states.js';
import { FIXTURES, FerryServer, eventually, jobFunction } from './helpers/ferry-server.js';

interface Delivery {
  pid: number;
  outcomes: TaskOutcome[];
}

describe('kill -9 between a task’s end and the outcome consumer’s acknowledgement', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-feed-'));
  const recorderFile = join(scratch, 'deliveries.jsonl');
  const holdFile = join(scratch, 'hold');
  const server = new FerryServer(
    ['--gpus', 'none'],
    { RECORDER_FILE: recorderFile, RECORDER_HOLD: holdFile, RECORDER_HOLD_AFTER: '20', FERRY_OUTCOME_POLL_MS: '200' },
    ['--import', 'tsx', join(FIXTURES, 'outcome-recorder-server.ts')],
  );
  afterAll(async () => {
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const deliveries = (): Delivery[] =>
    existsSync(recorderFile)
      ? readFileSync(recorderFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Delivery)
      : [];

  it('hands the consumer that outcome again after the restart, under the same id, and no other twice', async () => {
    writeFileSync(holdFile, '');
    await server.start();
    const fn = await server.client.createFunction(jobFunction('work', {}, { concurrency: 4, retries: 1 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    // Every fifth task fails twice (a retry scheduled, then FAILED); the rest succeed.
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { sleepMs: 100, output: i, ...(i % 5 === 0 ? { exitCode: 3 } : {}) } })).id);

    // The consumer has written a batch past the 20th outcome and hangs before acknowledging it.
    const firstPid = server.pid;
    await eventually(async () => (deliveries().reduce((n, d) => n + d.outcomes.length, 0) >= 20 ? true : undefined), 30_000, 'the consumer to hold a batch');
    await server.kill9();
    const before = deliveries();
    const held = before[before.length - 1]!;
    rmSync(holdFile);
    await server.start();

    const tasks = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => server.client.getTask(id)));
      return all.every((t) => isTerminalTask(t.status)) ? all : undefined;
    }, 60_000, 'every task to end');
    // Every attempt of every task ended once, and so has an outcome: ids task.1 … task.N.
    const expected = new Set(tasks.flatMap((t) => Array.from({ length: t.attempt }, (_, i) => outcomeId(t.id, i + 1))));
    const seen = await eventually(async () => {
      const counts = new Map<string, number>();
      for (const d of deliveries()) for (const o of d.outcomes) counts.set(o.id, (counts.get(o.id) ?? 0) + 1);
      return [...expected].every((id) => counts.has(id)) ? counts : undefined;
    }, 30_000, 'every outcome to be delivered');

    expect(held.pid).toBe(firstPid);
    expect(held.outcomes.length).toBeGreaterThan(0);
    expect(new Set(seen.keys())).toEqual(expected);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.sort()).toEqual(held.outcomes.map((o) => o.id).sort());
    expect(Math.max(...seen.values())).toBe(2);
    // The last outcome of each task is its end as recorded.
    const last = new Map<string, TaskOutcome>();
    for (const d of deliveries()) for (const o of d.outcomes) last.set(o.taskId, o.attempt >= (last.get(o.taskId)?.attempt ?? 0) ? o : last.get(o.taskId)!);
    for (const t of tasks) expect(last.get(t.id)).toMatchObject({ attempt: t.attempt, status: t.status, errorCode: t.error?.code ?? null });
    expect(tasks.filter((t) => t.status === 'FAILED')).toHaveLength(12);
  }, 120_000);
});
