import { afterAll, describe, expect, it } from 'vitest';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cron triggers across kill -9 and restart', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_TRIGGER_POLL_MS: '200' });
  afterAll(() => server.dispose());

  const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return (await res.json()) as Json;
  };
  /** The ticks a trigger fired, oldest first, each with its task. */
  const firesOf = async (id: string): Promise<{ tick: number; taskId: string }[]> =>
    ((await api('GET', `/v1/triggers/${id}/tasks?limit=500`)).items as Json[]).map((f) => ({ tick: Number(f.eventKey), taskId: f.taskId as string })).reverse();

  it('runs one task per second-tick, none twice; missed ticks run once each with catchUp and are skipped without', async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('tick', {}, { retries: 0 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    const every = { functionId: 'tick', kind: 'cron', schedule: '* * * * * *', task: { input: { 'at.$': '$.scheduledAt' } } };
    const catchUp = await api('POST', '/v1/triggers', { ...every, name: 'catch-up', catchUp: true });
    const skip = await api('POST', '/v1/triggers', { ...every, name: 'skip', catchUp: false });

    await sleep(2_500);
    const killedAt = Date.now();
    await server.kill9();
    await sleep(3_000);
    await server.start();
    const restartedAt = Date.now();
    await sleep(2_500);
    await server.kill9();
    await server.start();
    await sleep(1_500);
    await api('POST', `/v1/triggers/${catchUp.id}/pause`);
    await api('POST', `/v1/triggers/${skip.id}/pause`);
    const pausedAt = Date.now();
    // The leader stops its runners a moment after the pause is stored: let a tick in hand finish.
    await sleep(1_500);

    const caught = await firesOf(catchUp.id);
    const ticks = caught.map((f) => f.tick);
    // Every second from the first tick to the last: N ticks in N seconds, none twice, no gap.
    expect(ticks.length).toBeGreaterThanOrEqual(Math.floor((pausedAt - Date.parse(catchUp.createdAt)) / 1000) - 1);
    ticks.forEach((t, i) => expect(t).toBe(ticks[0]! + i * 1000));
    expect(new Set(caught.map((f) => f.taskId)).size).toBe(caught.length);

    const skipped = (await firesOf(skip.id)).map((f) => f.tick);
    expect(new Set(skipped).size).toBe(skipped.length);
    // While the server was down, nothing; after it, every second again.
    const down = skipped.filter((t) => t > killedAt && t < restartedAt - 1000);
    expect(down).toEqual([]);
    expect(skipped.filter((t) => t > killedAt).length).toBeGreaterThan(0);

    // Each tick made one task, with that tick as its input, found by the tick's idempotency key.
    const tasks = (await server.client.listTasks({ functionId: fn.id, limit: 500 })).items;
    const byKey = new Map(tasks.map((t) => [t.idempotencyKey, t]));
    expect(byKey.size).toBe(tasks.length);
    const ticksOf = (id: string): number[] => tasks.filter((t) => t.idempotencyKey!.startsWith(`trigger:${id}:`)).map((t) => Number(t.idempotencyKey!.split(':')[2]));
    // With catch-up, a tick whose task was made just before a kill is fired again at the restart: its fire is recorded then.
    expect(ticksOf(catchUp.id).sort()).toEqual([...ticks].sort());
    // Without it, that tick is skipped: its task stays, its fire is not recorded (at most one per kill), and none came from the down window.
    const skipTicks = ticksOf(skip.id);
    expect(skipTicks).toEqual(expect.arrayContaining(skipped));
    expect(skipTicks.length - skipped.length).toBeLessThanOrEqual(2);
    expect(skipTicks.filter((t) => t > killedAt && t < restartedAt - 1000)).toEqual([]);
    const sample = (await server.client.getTask(byKey.get(`trigger:${catchUp.id}:${ticks[3]}`)!.id)) as Json;
    expect(sample.input).toEqual({ at: new Date(ticks[3]!).toISOString() });
    // The count the trigger shows is the tasks it made.
    expect((await api('GET', `/v1/triggers/${catchUp.id}`)).fired).toBe(caught.length);
  }, 60_000);
});
