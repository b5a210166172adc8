import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, TaskStreamEvent } from '../src/sdk/client.js';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

const available = await postgresAvailable();

/**
 * Streams across replicas: the agent talks to replica A only, the follower to replica B, which
 * hears of the task's changes on its poll (and of its end through the signal bus).
 */
describe.skipIf(!available)('streams across replicas on PostgreSQL', () => {
  const schema = freshSchema('ferry_streams');
  const env = { FERRY_PG_SCHEMA: schema, FERRY_LEADER_POLL_MS: '300', FERRY_STREAM_POLL_MS: '200' };
  const [a, b] = [0, 1].map(() => new FerryServer(['--no-agent', '--store', POSTGRES_URL], env)) as [FerryServer, FerryServer];
  let agent: FerryAgent;

  beforeAll(async () => {
    await a.start();
    await b.start();
    b.adminKey = a.adminKey;
    agent = await new FerryAgent(() => [a.url], (await a.client.createNodeToken('streams')).token, 'none').start();
  });
  afterAll(async () => {
    await agent.dispose();
    await a.dispose();
    await b.dispose();
    await dropSchema(schema);
  });

  it('a follower on another replica sees every log line once, each change and the end, and the fleet’s events', async () => {
    const fn = await a.client.createFunction(jobFunction('far-talker'));
    const fleet = b.client.fleetEvents({ functionId: 'far-talker', after: 0 });
    await a.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const { id } = await a.client.submit({ functionId: fn.id, input: { logLines: 20, lineEveryMs: 30, output: 'far' } });

    const [lines, events] = await Promise.all([
      (async () => {
        const out: LogLine[] = [];
        for await (const l of b.client.followLogs(id)) out.push(l);
        return out;
      })(),
      (async () => {
        const out: TaskStreamEvent[] = [];
        for await (const e of b.client.taskEvents(id)) out.push(e);
        return out;
      })(),
    ]);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`));
    expect(new Set(lines.map((l) => l.seq)).size).toBe(lines.length);
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events[events.length - 1]).toMatchObject({ type: 'end', task: { status: 'SUCCEEDED', output: 'far' } });

    const first = await fleet.next();
    expect(first.value).toMatchObject({ functionId: fn.id, kind: 'deployment', to: 'DEPLOYING' });
    await fleet.return(undefined);
  });
});
