import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TaskOutcome, outcomeId } from '../src/core/outcomes.js';
import { isTerminalTask } from '../src/core/states.js';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FIXTURES, FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

const available = await postgresAvailable();

/**
 * The outcome feed across two replicas on PostgreSQL: each runs the same consumer, which records
 * what it is handed; only the leader delivers. Tasks end through both replicas (an agent on each,
 * cancels sent to the other), and mid-run the leader stops, so the other takes the lead from the
 * stored cursor. Each batch takes the consumer 150 ms, so the leader steps down with one in hand.
 */
describe.skipIf(!available)('outcome feed on PostgreSQL: two replicas, a change of leader', () => {
  const schema = freshSchema('ferry_feed');
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-feed-pg-'));
  const files = [join(scratch, 'a.jsonl'), join(scratch, 'b.jsonl')];
  const replicas = files.map(
    (file) =>
      new FerryServer(['--no-agent', '--store', POSTGRES_URL], { FERRY_PG_SCHEMA: schema, FERRY_LEADER_POLL_MS: '300', FERRY_OUTCOME_POLL_MS: '200', RECORDER_FILE: file, RECORDER_DELAY_MS: '150' }, [
        '--import',
        'tsx',
        join(FIXTURES, 'outcome-recorder-server.ts'),
      ]),
  ) as [FerryServer, FerryServer];
  const agents: FerryAgent[] = [];

  beforeAll(async () => {
    const [a, b] = replicas;
    await a.start();
    await b.start();
    b.adminKey = a.adminKey;
    const token = (await a.client.createNodeToken('feed')).token;
    agents.push(await new FerryAgent(() => [a.url, b.url], token, '1xH200:143771').start());
    agents.push(await new FerryAgent(() => [b.url, a.url], token, '1xH200:143771').start());
  });
  afterAll(async () => {
    for (const agent of agents) await agent.dispose();
    for (const r of replicas) await r.dispose();
    await dropSchema(schema);
    rmSync(scratch, { recursive: true, force: true });
  });

  const delivered = (file: string): TaskOutcome[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .flatMap((l) => (JSON.parse(l) as { outcomes: TaskOutcome[] }).outcomes)
      : [];

  it('delivers each outcome once, whichever replica ended the task and whichever leads', async () => {
    const [a, b] = replicas;
    const fn = await a.client.createFunction(serverFunction('feed-echo', { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 4, retries: 1 }));
    await a.client.deploy(fn.id, fn.version.id, { minInstances: 2, maxInstances: 2 });
    await eventually(async () => ((await a.client.instances()).items.filter((i) => i.state === 'IDLE').length === 2 ? true : undefined), 30_000, 'two idle instances');

    const ids: string[] = [];
    const submitBatch = async (from: number, to: number, through: FerryServer[]): Promise<void> => {
      for (let i = from; i < to; i++) {
        const input = { sleepMs: 20, n: i, ...(i % 7 === 0 ? { status: 500 } : {}) };
        ids.push((await through[i % through.length]!.client.submit({ functionId: fn.id, input })).id);
        // Every tenth is cancelled, through the other replica while there are two.
        if (i % 10 === 5) await through[(i + 1) % through.length]!.client.cancelTask(ids[i]!).catch(() => {});
      }
    };
    await submitBatch(0, 100, [a, b]);
    await eventually(async () => (delivered(files[0]!).length > 20 ? true : undefined), 30_000, 'the first leader to deliver');
    // The first leader steps down: the other takes the lead and carries on from the stored cursor.
    await a.stop();
    await submitBatch(100, 200, [b]);
    await a.start();

    const tasks = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => b.client.getTask(id)));
      return all.every((t) => isTerminalTask(t.status)) ? all : undefined;
    }, 60_000, 'every task to end');
    const expected = tasks.flatMap((t) => Array.from({ length: t.attempt }, (_, i) => outcomeId(t.id, i + 1)));
    const all = await eventually(async () => {
      const seen = [...delivered(files[0]!), ...delivered(files[1]!)];
      return expected.every((id) => seen.some((o) => o.id === id)) ? seen : undefined;
    }, 30_000, 'every outcome to be delivered');

    expect(all.map((o) => o.id).sort()).toEqual([...expected].sort());
    expect(delivered(files[0]!).length).toBeGreaterThan(0);
    expect(delivered(files[1]!).length).toBeGreaterThan(0);
    expect(new Set(tasks.map((t) => t.status))).toEqual(new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']));
  }, 120_000);
});
