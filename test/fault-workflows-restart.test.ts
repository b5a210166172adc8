import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateMachine } from '../src/core/workflows/definition.js';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const available = await postgresAvailable();

const EXECUTIONS = 20;
const ITEMS = 50;
const KILLS = 5;

/** Prepare, a Map of 50 items (each a task), Join, Done: 52 tasks an execution. */
const definition = (ledger: string): StateMachine => ({
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Task', Resource: 'item', Parameters: { 'items.$': '$.items', ledger }, ResultSelector: { 'items.$': '$.echo.items' }, ResultPath: '$.prepared', Next: 'Each' },
    Each: {
      Type: 'Map',
      ItemsPath: '$.prepared.items',
      MaxConcurrency: 10,
      ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: 'item', Parameters: { 'i.$': '$', sleepMs: 200, ledger }, ResultSelector: { 'i.$': '$.echo.i' }, End: true } } },
      ResultPath: '$.results',
      Next: 'Join',
    },
    Join: { Type: 'Task', Resource: 'item', Parameters: { 'results.$': '$.results', 'n.$': '$.n', ledger }, ResultSelector: { 'n.$': '$.echo.n', 'results.$': '$.echo.results' }, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * 20 executions of the 4-step workflow while the server (on PostgreSQL, the leader replica) is
 * SIGKILLed and started again five times: every execution ends SUCCEEDED with the output its
 * input gives, each step key has exactly one task, and no task ran more often than its recorded
 * attempts (the function's own ledger of the requests it got).
 */
async function runAcrossKills(api: () => FerryServer, kill: (round: number) => Promise<void>, ledger: string, agentDies: boolean): Promise<void> {
  const server = api();
  const fn = await server.client.createFunction(serverFunction('item', { concurrency: 8, retries: 2 }));
  await server.client.deploy(fn.id, fn.version.id, { minInstances: 2, maxInstances: 2 });
  await server.client.workflows.create({ name: 'fan-out', definition: definition(ledger) });
  const items = Array.from({ length: ITEMS }, (_, i) => i);
  const ids: string[] = [];
  for (let n = 0; n < EXECUTIONS; n++) ids.push((await server.client.workflows.run('fan-out', { input: { n, items }, idempotencyKey: `fan-out-${n}` })).id);

  const total = EXECUTIONS * (ITEMS + 2);
  let ran = 0;
  for (let round = 0; round < KILLS; round++) {
    // Kill once a share of the work left has been done since the last kill: the kills spread over the run.
    const share = Math.max(10, Math.floor((total - ran) / (KILLS - round + 1)));
    const from = ran;
    ran = await eventually(async () => {
      const n = await lineCount(ledger);
      return n >= from + share ? n : undefined;
    }, 30_000, `tasks to run before kill ${round + 1} (${from} so far)`);
    await kill(round);
  }
  // The last kill fell while the executions ran, not after.
  expect(ran).toBeLessThan(total);

  const ended = await eventually(async () => {
    const all = await Promise.all(ids.map((id) => api().client.workflows.execution(id)));
    return all.every((e) => e.status !== 'RUNNING') ? all : undefined;
  }, 120_000, 'every execution to end');
  const results = items.map((i) => ({ i }));
  ended.forEach((e, n) => expect({ status: e.status, output: e.output }).toEqual({ status: 'SUCCEEDED', output: { n, results } }));

  const runs = new Map<string, number[]>();
  for (const line of readFileSync(ledger, 'utf8').trim().split('\n')) {
    const [taskId, attempt] = line.split(' ') as [string, string];
    runs.set(taskId, [...(runs.get(taskId) ?? []), Number(attempt)]);
  }
  let rerun = 0;
  for (const e of ended) {
    const tasks = (await api().client.workflows.tasks(e.id)).items as Json[];
    expect(tasks.length).toBe(ITEMS + 2);
    expect(new Set(tasks.map((t) => t.key)).size).toBe(ITEMS + 2);
    for (const t of tasks) {
      expect(t.status).toBe('SUCCEEDED');
      const attempts = runs.get(t.taskId) ?? [];
      // Started at most once per recorded attempt, and the attempt that succeeded did run.
      expect(attempts.length).toBeLessThanOrEqual(t.attempt);
      expect(new Set(attempts).size).toBe(attempts.length);
      expect(attempts).toContain(t.attempt);
      if (t.attempt > 1) rerun++;
    }
  }
  // Not one task for a step key beyond the one recorded: the tasks of the function are exactly the executions'.
  const counts = await api().client.queue(fn.id);
  expect(Object.values(counts.byStatus).reduce((a, b) => a + (b ?? 0), 0)).toBe(EXECUTIONS * (ITEMS + 2));
  // Where the agent died with the server, attempts were lost and ran again; a remote agent loses none.
  if (agentDies) expect(rerun).toBeGreaterThan(0);
}

async function lineCount(file: string): Promise<number> {
  try {
    return readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

describe('workflows across kill -9 of the server', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-wf-kill-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  describe('SQLite', () => {
    const server = new FerryServer(['--gpus', 'none'], { FERRY_OUTCOME_POLL_MS: '100', FERRY_WORKFLOW_POLL_MS: '200' });
    afterAll(() => server.dispose());

    it(`ends ${EXECUTIONS} executions of a Map of ${ITEMS} as they should across ${KILLS} kills, no task run beyond its attempts`, async () => {
      await server.start();
      await runAcrossKills(
        () => server,
        async () => {
          await server.kill9();
          await server.start();
        },
        join(scratch, 'sqlite-ledger'),
        true,
      );
    }, 240_000);

    it('cancels, as it starts again, the task of an execution whose end was saved just before a crash cut off its cancel', async () => {
      const ledger = join(scratch, 'leftover-ledger');
      await server.client.workflows.create({ name: 'long', definition: { StartAt: 'Sleep', States: { Sleep: { Type: 'Task', Resource: 'item', Parameters: { sleepMs: 60_000, ledger }, End: true } } } });
      const e = await server.client.workflows.run('long', { input: {} });
      const [step] = (await server.client.workflows.tasks(e.id)).items;
      await eventually(async () => ((await lineCount(ledger)) > 0 ? true : undefined), 20_000, 'the task to run');
      await server.kill9();
      // What the crash left: the execution's end stored, the cancel of its task never sent.
      const db = new Database(join(server.dataDir, 'ferry.db'));
      db.prepare("UPDATE executions SET status = 'CANCELLED', ended_at = ? WHERE id = ?").run(Date.now(), e.id);
      db.close();
      await server.start();
      await eventually(async () => ((await server.client.getTask(step!.taskId)).status === 'CANCELLED' ? true : undefined), 20_000, 'the left-over task to be cancelled');
    }, 60_000);
  });

  describe.skipIf(!available)('PostgreSQL, two replicas, the leader killed each time', () => {
    const schema = freshSchema('ferry_wf_kill');
    const env = { FERRY_PG_SCHEMA: schema, FERRY_LEADER_POLL_MS: '300', FERRY_OUTCOME_POLL_MS: '100', FERRY_WORKFLOW_POLL_MS: '200' };
    let replicas: FerryServer[] = [];
    let agent: FerryAgent | null = null;
    afterAll(async () => {
      await agent?.dispose();
      for (const r of replicas) await r.dispose();
      await dropSchema(schema);
    });

    it(`ends ${EXECUTIONS} executions of a Map of ${ITEMS} as they should across ${KILLS} leader kills, no task run beyond its attempts`, async () => {
      // Fixed ports: a replica started again is where the agent knows it.
      const ports = [await freePort(), await freePort()];
      replicas = ports.map((port) => new FerryServer(['--no-agent', '--store', POSTGRES_URL, '--port', String(port)], env));
      const [r0, r1] = replicas as [FerryServer, FerryServer];
      await r0.start();
      await r1.start();
      r1.adminKey = r0.adminKey;
      const token = (await r0.client.createNodeToken('wf')).token;
      agent = await new FerryAgent(() => replicas.map((r) => r.url), token, 'none').start();
      // The first to start leads; each kill takes the leader, whose successor is killed next.
      let leader = 0;
      let up = 1;
      await runAcrossKills(
        () => replicas[up]!,
        async () => {
          await replicas[leader]!.kill9();
          // The other replica takes the lead within a leader poll; the killed one comes back as a follower.
          await sleep(600);
          await replicas[leader]!.start();
          replicas[leader]!.adminKey = r0.adminKey;
          [leader, up] = [up, leader];
        },
        join(scratch, 'pg-ledger'),
        false,
      );
    }, 240_000);
  });
});
