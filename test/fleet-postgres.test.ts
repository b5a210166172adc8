import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../src/core/errors.js';
import { isTerminalTask } from '../src/core/states.js';
import type { TaskInfo } from '../src/sdk/client.js';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

const TASKS = 2_000;
const available = await postgresAvailable();

/**
 * The fleet on loopback: two control-plane replicas on one PostgreSQL, three remote agents with
 * declared GPUs. Tasks go round-robin to both replicas; mid-run one agent and one replica are
 * SIGKILLed. Nothing acknowledged may be lost and no result recorded twice.
 */
describe.skipIf(!available)('fleet on PostgreSQL: two replicas, three agents, kill -9 of one of each', () => {
  const schema = freshSchema('ferry_fleet');
  const env = { FERRY_PG_SCHEMA: schema, FERRY_NODE_LOST_MS: '1500', FERRY_LEADER_POLL_MS: '300' };
  const replicas = [0, 1].map(() => new FerryServer(['--no-agent', '--store', POSTGRES_URL], env));
  const agents: FerryAgent[] = [];

  beforeAll(async () => {
    await replicas[0]!.start();
    await replicas[1]!.start();
    replicas[1]!.adminKey = replicas[0]!.adminKey;
    const token = (await replicas[0]!.client.createNodeToken('fleet')).token;
    // Each agent knows both replicas, starting with a different one.
    for (let i = 0; i < 3; i++) {
      const urls = (): string[] => (i % 2 === 0 ? [replicas[0]!.url, replicas[1]!.url] : [replicas[1]!.url, replicas[0]!.url]);
      agents.push(await new FerryAgent(urls, token, '2xH200:143771').start());
    }
  });

  afterAll(async () => {
    // A restarted agent reaps what its killed predecessor left running, then stops for good.
    for (const a of agents) {
      if (a.killed) await a.start().catch(() => {});
      await a.dispose();
    }
    for (const r of replicas) await r.dispose();
    await dropSchema(schema);
  });

  it(`runs ${TASKS} tasks to SUCCEEDED, each result once, through an agent and a replica SIGKILLed mid-run`, async () => {
    const [r1, r2] = replicas as [FerryServer, FerryServer];
    const fn = await r1.client.createFunction(serverFunction('fleet-echo', { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 8 }));
    await r1.client.deploy(fn.id, fn.version.id, { minInstances: 3, maxInstances: 3 });
    await eventually(async () => ((await r1.client.instances()).items.filter((i) => i.state === 'IDLE').length === 3 ? true : undefined), 30_000, 'three idle instances');

    const started = Date.now();
    const ids: string[] = new Array(TASKS);
    let next = 0;
    let killedAgentAt = 0;
    let killedReplicaAt = 0;
    const victim = agents[0]!;
    // Submitters send task i to replica i % 2, with an idempotency key; when that replica is gone the
    // same request goes to the other, and the key makes sure it is stored once.
    const submit = async (i: number): Promise<string> => {
      for (let tries = 0; ; tries++) {
        const replica = replicas[(i + tries) % 2]!;
        try {
          return (await replica.client.submit({ functionId: fn.id, input: { n: i, sleepMs: 20 }, idempotencyKey: `fleet-${i}` })).id;
        } catch (err) {
          if (!(err instanceof FerryError) || tries > 20) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < TASKS) {
          const i = next++;
          ids[i] = await submit(i);
          if (i === TASKS / 4 && !killedAgentAt) {
            await victim.kill9();
            killedAgentAt = Date.now();
          }
          if (i === TASKS / 2 && !killedReplicaAt) {
            await r2.kill9();
            killedReplicaAt = Date.now();
          }
        }
      }),
    );
    const acknowledgedAt = Date.now();

    const final = await eventually(async () => {
      const tasks: TaskInfo[] = [];
      for (let k = 0; k < ids.length; k += 100) tasks.push(...(await Promise.all(ids.slice(k, k + 100).map((id) => r1.client.getTask(id)))));
      return tasks.every((t) => isTerminalTask(t.status)) ? tasks : undefined;
    }, 90_000, 'every task to end');
    const doneAt = Math.max(...final.map((t) => Date.parse(t.finishedAt!)));

    expect(new Set(ids).size).toBe(TASKS);
    expect(final.filter((t) => t.status !== 'SUCCEEDED').map((t) => [t.id, t.status, t.error])).toEqual([]);
    // The recorded result is the current attempt's, for the right task and input: no stale or doubled report won.
    for (const [i, t] of final.entries()) {
      const out = t.output as { echo: { n: number }; taskId: string; attempt: number };
      expect([out.echo.n, out.taskId, out.attempt]).toEqual([i, t.id, t.attempt]);
    }
    const rerun = final.filter((t) => t.attempt > 1);
    expect(rerun.length).toBeGreaterThan(0);
    const nodes = (await r1.client.nodes()).items;
    expect(nodes.find((n) => n.id === victim.nodeId)!.state).toBe('LOST');

    const redispatch = rerun.map((t) => Date.parse(t.startedAt!) - killedAgentAt).sort((a, b) => a - b);
    const row = (k: string, v: string): string => `| ${k} | ${v} |`;
    console.log(
      [
        `| fleet run (${TASKS} tasks, 2 replicas, 3 agents, PostgreSQL) | |`,
        '| --- | --- |',
        row('all acknowledged after', `${acknowledgedAt - started} ms`),
        row('all SUCCEEDED after', `${doneAt - started} ms`),
        row('agent SIGKILLed / replica SIGKILLed at', `${killedAgentAt - started} ms / ${killedReplicaAt - started} ms`),
        row('tasks re-run (attempt > 1)', String(rerun.length)),
        row('re-dispatch delay after the kill, min / median / max', `${redispatch[0]} / ${redispatch[Math.floor(redispatch.length / 2)]} / ${redispatch.at(-1)} ms`),
      ].join('\n'),
    );
  }, 180_000);
});
