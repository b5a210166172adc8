import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretKey, signWebhook } from '../src/core/webhook-signature.js';
import { uploadAsset } from '../src/sdk/asset-files.js';
import { FerryServer, eventually, jobFunction, serverFunction } from './helpers/ferry-server.js';

/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('workflows: definitions checked on create, executions driven by their tasks’ ends', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_OUTCOME_POLL_MS: '100', FERRY_WORKFLOW_POLL_MS: '200' });
  let api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json }>;
  const run = async (workflow: string, input: unknown, extra: Json = {}): Promise<Json> => {
    const res = await api('POST', `/v1/workflows/${workflow}/executions`, { input, ...extra });
    expect(res.status).toBe(202);
    return res.body;
  };
  const ended = (id: string, ms = 30_000): Promise<Json> =>
    eventually(async () => {
      const e = (await api('GET', `/v1/executions/${id}`)).body;
      return e.status === 'RUNNING' ? undefined : e;
    }, ms, `execution ${id} to end`);
  const history = async (id: string): Promise<Json[]> => (await api('GET', `/v1/executions/${id}/history`)).body.items;

  beforeAll(async () => {
    await server.start();
    api = async (method, path, body) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: res.status === 204 ? {} : ((await res.json()) as Json) };
    };
    // `step` writes `output` from its input as its output, fails with `exitCode`, sleeps `sleepMs`.
    const step = await server.client.createFunction(jobFunction('step', {}, { retries: 0, concurrency: 4 }));
    await server.client.deploy(step.id, step.version.id, { minInstances: 1, maxInstances: 2 });
    // `echo` answers {echo: input}: a server-mode function, for Maps of many items.
    const echo = await server.client.createFunction(serverFunction('echo', { concurrency: 32, retries: 0 }));
    await server.client.deploy(echo.id, echo.version.id, { minInstances: 2, maxInstances: 2 });
  });
  afterAll(() => server.dispose());

  it('refuses a definition with an error that names the state and field, and a Task of no function', async () => {
    const bad = await api('POST', '/v1/workflows', { name: 'bad', definition: { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST', message: expect.stringContaining('definition.States.A.Next: "Nowhere"') } } });
    const unreached = await api('POST', '/v1/workflows', { name: 'bad', definition: { StartAt: 'A', States: { A: { Type: 'Succeed' }, B: { Type: 'Succeed' } } } });
    expect(unreached.body.error.message).toContain('definition.States.B: cannot be reached');
    const noFn = await api('POST', '/v1/workflows', { name: 'bad', definition: { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'nope', End: true } } } });
    expect(noFn.body.error.message).toBe('definition.States.A.Resource: no function "nope"');
    expect((await api('GET', '/v1/workflows/bad')).status).toBe(404);
  });

  it('runs Task, Choice, Map with MaxConcurrency, Parallel and Wait to the output the definition says, with its history and tasks', async () => {
    const definition = {
      StartAt: 'Split',
      TimeoutSeconds: 120,
      States: {
        Split: { Type: 'Task', Resource: 'step', Parameters: { 'output.$': '$.chunks' }, ResultPath: '$.chunks', Next: 'Enough' },
        Enough: { Type: 'Choice', Choices: [{ Variable: '$.chunks[0]', IsPresent: true, Next: 'Transcode' }], Default: 'Empty' },
        Empty: { Type: 'Fail', Error: 'NoChunks' },
        Transcode: {
          Type: 'Map',
          ItemsPath: '$.chunks',
          MaxConcurrency: 2,
          ItemProcessor: { StartAt: 'One', States: { One: { Type: 'Task', Resource: 'step', Parameters: { output: { 'done.$': '$' } }, End: true } } },
          ResultPath: '$.transcoded',
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Count', States: { Count: { Type: 'Pass', Parameters: { 'n.$': '$.transcoded' }, End: true } } },
            { StartAt: 'Notify', States: { Notify: { Type: 'Task', Resource: 'step', Parameters: { output: 'notified' }, End: true } } },
          ],
          ResultPath: '$.both',
          Next: 'Breathe',
        },
        Breathe: { Type: 'Wait', Seconds: 0.3, Next: 'Done' },
        Done: { Type: 'Succeed', OutputPath: '$.both' },
      },
    };
    const created = await api('POST', '/v1/workflows', { name: 'video', definition });
    expect(created).toMatchObject({ status: 201, body: { name: 'video', latestVersion: 1, version: { number: 1, definition } } });
    const started = await run('video', { chunks: ['a', 'b', 'c', 'd', 'e'] });
    expect(started).toMatchObject({ status: 'RUNNING', workflowId: created.body.id, currentSteps: [{ state: 'Split', kind: 'task' }] });

    const done = await ended(started.id);
    const transcoded = ['a', 'b', 'c', 'd', 'e'].map((c) => ({ done: c }));
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: [{ n: transcoded }, 'notified'], error: null, currentSteps: [] });
    // Split, Enough, five One, Transcode, Count, Notify, Both, Breathe, Done.
    expect(done.stepsDone).toBe(13);

    const tasks: Json[] = (await api('GET', `/v1/executions/${started.id}/tasks`)).body.items;
    expect(tasks.map((t) => t.state).sort()).toEqual(['Notify', 'One', 'One', 'One', 'One', 'One', 'Split']);
    expect(tasks.every((t) => t.status === 'SUCCEEDED' && t.attempt === 1)).toBe(true);
    // Never more than two items' tasks ran at once.
    const items = tasks.filter((t) => t.state === 'One').map((t) => [Date.parse(t.startedAt), Date.parse(t.finishedAt)] as const);
    for (const [start] of items) expect(items.filter(([s, f]) => s <= start && start < f).length).toBeLessThanOrEqual(2);

    const entries = await history(started.id);
    expect(entries[0]).toMatchObject({ type: 'ExecutionStarted', detail: { input: { chunks: ['a', 'b', 'c', 'd', 'e'] } } });
    expect(entries.at(-1)).toMatchObject({ type: 'ExecutionSucceeded', detail: { output: [{ n: transcoded }, 'notified'] } });
    expect(entries.filter((e) => e.type === 'TaskScheduled').length).toBe(7);
    expect(entries.filter((e) => e.type === 'TaskSucceeded').map((e) => e.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    const entered = entries.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered.filter((s) => s === 'One').length).toBe(5);
    expect(entered).toEqual(expect.arrayContaining(['Split', 'Enough', 'Transcode', 'Both', 'Count', 'Notify', 'Breathe', 'Done']));
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('retries a failing task as its Retry says, then takes its Catch with the error at the ResultPath', async () => {
    const definition = {
      StartAt: 'Flaky',
      States: {
        Flaky: {
          Type: 'Task',
          Resource: 'step',
          Parameters: { exitCode: 3 },
          Retry: [{ ErrorEquals: ['EXIT_CODE'], IntervalSeconds: 0.1, BackoffRate: 2, MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recover', ResultPath: '$.failure' }],
          End: true,
        },
        Recover: { Type: 'Pass', Parameters: { 'recoveredFrom.$': '$.failure.Error', 'input.$': '$.n' }, End: true },
      },
    };
    await api('POST', '/v1/workflows', { name: 'retry-catch', definition });
    const e = await ended((await run('retry-catch', { n: 7 })).id);
    expect(e).toMatchObject({ status: 'SUCCEEDED', output: { recoveredFrom: 'EXIT_CODE', input: 7 } });
    const entries = await history(e.id);
    expect(entries.filter((x) => x.type === 'TaskFailed').map((x) => x.detail.error.Error)).toEqual(['EXIT_CODE', 'EXIT_CODE', 'EXIT_CODE']);
    expect(entries.filter((x) => x.type === 'StateRetrying').map((x) => x.key)).toEqual(['x/1:Flaky', 'x/1:Flaky']);
    expect(entries.filter((x) => x.type === 'StateCaught')).toMatchObject([{ state: 'Flaky', detail: { next: 'Recover', error: { Error: 'EXIT_CODE' } } }]);
    const tasks: Json[] = (await api('GET', `/v1/executions/${e.id}/tasks`)).body.items;
    expect(tasks.map((t) => [t.key, t.status])).toEqual([
      ['x/1:Flaky#1', 'FAILED'],
      ['x/1:Flaky#2', 'FAILED'],
      ['x/1:Flaky#3', 'FAILED'],
    ]);
  });

  it('cancels an execution with its running task; times one out; gives the first execution back for a repeated idempotency key', async () => {
    await api('POST', '/v1/workflows', { name: 'slow', definition: { StartAt: 'Sleep', States: { Sleep: { Type: 'Task', Resource: 'step', Parameters: { sleepMs: 60_000 }, End: true } } } });
    const a = await run('slow', {}, { idempotencyKey: 'slow-1' });
    const again = await api('POST', '/v1/workflows/slow/executions', { input: {}, idempotencyKey: 'slow-1' });
    expect(again).toMatchObject({ status: 200, body: { id: a.id } });
    expect((await api('POST', '/v1/workflows/slow/executions', { input: { other: 1 }, idempotencyKey: 'slow-1' })).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const [task] = (await api('GET', `/v1/executions/${a.id}/tasks`)).body.items;
    await eventually(async () => ((await server.client.getTask(task.taskId)).status === 'RUNNING' ? true : undefined), 15_000, 'the task to run');
    expect((await api('POST', `/v1/executions/${a.id}/cancel`)).body).toMatchObject({ status: 'CANCELLED' });
    await eventually(async () => ((await server.client.getTask(task.taskId)).status === 'CANCELLED' ? true : undefined), 15_000, 'the task to be cancelled');
    expect((await api('POST', `/v1/executions/${a.id}/cancel`)).body.error.code).toBe('EXECUTION_ENDED');
    // The cancelled task's end comes after the execution's, and is history too.
    await eventually(async () => ((await history(a.id)).at(-1)?.type === 'TaskFailed' ? true : undefined), 5_000, 'the task’s end in the history');
    expect((await history(a.id)).slice(-2)).toMatchObject([{ type: 'ExecutionCancelled' }, { type: 'TaskFailed', taskId: task.taskId, detail: { error: { Error: 'CANCELLED' } } }]);

    const b = await run('slow', {}, { timeoutSeconds: 1 });
    expect(await ended(b.id)).toMatchObject({ status: 'TIMED_OUT', error: { Error: 'States.Timeout' } });
    const [bTask] = (await api('GET', `/v1/executions/${b.id}/tasks`)).body.items;
    await eventually(async () => ((await server.client.getTask(bTask.taskId)).status === 'CANCELLED' ? true : undefined), 15_000, 'the timed-out execution’s task to be cancelled');

    const listed = (await api('GET', '/v1/executions?workflow=slow&status=CANCELLED,TIMED_OUT')).body.items.map((x: Json) => x.id);
    expect(listed).toEqual([b.id, a.id]);
    expect((await api('DELETE', '/v1/workflows/slow')).status).toBe(204);
    expect((await api('GET', `/v1/executions/${a.id}`)).status).toBe(404);
  });

  it('works from the CLI: create from a file, run following it to its output, list, history, a failed run’s exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-wf-cli-'));
    const file = join(dir, 'wf.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'Echo', States: { Echo: { Type: 'Task', Resource: 'step', Parameters: { 'output.$': '$.say' }, End: true } } }));
    expect((await server.cli('workflows', 'create', 'echo-cli', '-f', file)).stdout).toMatch(/echo-cli\s+1/);
    const ran = await server.cli('-o', 'json', 'workflows', 'run', 'echo-cli', '--data', '{"say":"hi"}');
    expect([ran.code, JSON.parse(ran.stdout)]).toEqual([0, 'hi']);
    const listed = JSON.parse((await server.cli('-o', 'json', 'executions', 'list', '--workflow', 'echo-cli')).stdout);
    expect(listed.items).toMatchObject([{ status: 'SUCCEEDED', output: 'hi' }]);
    const hist = await server.cli('executions', 'history', listed.items[0].id);
    expect(hist.stdout).toMatch(/ExecutionStarted[\s\S]*TaskScheduled[\s\S]*TaskSucceeded[\s\S]*ExecutionSucceeded/);
    const failing = join(dir, 'fail.json');
    writeFileSync(failing, JSON.stringify({ name: 'fail-cli', definition: { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'Boom', Cause: 'on purpose' } } } }));
    await server.cli('workflows', 'create', '-f', failing);
    const failed = await server.cli('workflows', 'run', 'fail-cli', '--data', '{}');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('Boom: on purpose');
    const bad = await server.cli('workflows', 'create', 'bad-cli', '-f', failing.replace('fail', 'missing'));
    expect(bad.code).toBe(2);
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps over items read from an asset a page at a time, never more than MaxConcurrency in flight, its results written to an asset in order', async () => {
    const ITEMS = 2_500;
    const lines = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ n: i })).join('\n');
    const list = await uploadAsset(server.client, Buffer.from(`${lines}\n`), { contentType: 'application/x-ndjson' });
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemReader: { AssetPath: '$.items' },
          ResultWriter: {},
          MaxConcurrency: 40,
          ItemProcessor: { StartAt: 'Double', States: { Double: { Type: 'Task', Resource: 'echo', Parameters: { 'n.$': '$.n' }, ResultSelector: { 'n.$': '$.echo.n' }, End: true } } },
          ResultPath: '$.results',
          Catch: [{ ErrorEquals: ['INVALID_REQUEST'], ResultPath: '$.failure', Next: 'Unreadable' }],
          End: true,
        },
        Unreadable: { Type: 'Pass', Parameters: { 'error.$': '$.failure.Cause' }, End: true },
      },
    };
    await api('POST', '/v1/workflows', { name: 'many', definition });
    // Sample the function's running tasks while it runs: never more than MaxConcurrency.
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, (await server.client.queue('echo')).running);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = await run('many', { items: list.id });
    const e = await ended(started.id, 120_000);
    sampling = false;
    await sampler;
    expect(e).toMatchObject({ status: 'SUCCEEDED', output: { items: list.id, results: { count: ITEMS, asset: { contentType: 'application/x-ndjson' } } } });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(40);
    const asset = await server.client.assets.get(e.output.results.asset.id);
    const results = (await (await fetch(asset.downloadUrl!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(results).toEqual(Array.from({ length: ITEMS }, (_, n) => ({ n })));
    // Its tasks, a page at a time: each item's, once, in the order they started.
    const keys: string[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await server.client.workflows.tasks(e.id, { limit: 500, ...(cursor ? { cursor } : {}) });
      keys.push(...page.items.map((t) => t.key));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(new Set(keys).size).toBe(ITEMS);

    // A JSON array works as well as JSON Lines.
    const array = await uploadAsset(server.client, Buffer.from(`  ${JSON.stringify([{ n: 7 }, { n: 8 }, { n: 9 }])}`), { contentType: 'application/json' });
    const fromArray = await ended((await run('many', { items: array.id })).id);
    expect(fromArray).toMatchObject({ status: 'SUCCEEDED', output: { results: { count: 3 } } });
    const arrayResults = await server.client.assets.get(fromArray.output.results.asset.id);
    expect((await (await fetch(arrayResults.downloadUrl!)).text()).trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ n: 7 }, { n: 8 }, { n: 9 }]);

    // A list that is not JSON Lines fails the Map with the line named, for its Catch.
    const bad = await uploadAsset(server.client, Buffer.from('{"n": 1}\nnot json\n'), { contentType: 'application/x-ndjson' });
    const caught = await ended((await run('many', { items: bad.id })).id);
    expect(caught).toMatchObject({ status: 'SUCCEEDED', output: { error: `ItemReader: line 2 of asset ${bad.id} is not JSON` } });
  }, 150_000);

  it('is started by a trigger and by a destination as a function is: once per event, refused fields named', async () => {
    await api('POST', '/v1/workflows', { name: 'on-event', definition: { StartAt: 'Got', States: { Got: { Type: 'Pass', Parameters: { 'got.$': '$' }, End: true } } } });
    const both = await api('POST', '/v1/triggers', { name: 'both', kind: 'webhook', functionId: 'step', workflowId: 'on-event' });
    expect(both.body.error.message).toBe('functionId or workflowId: give exactly one (what each event starts)');
    const priority = await api('POST', '/v1/triggers', { name: 'prio', kind: 'webhook', workflowId: 'on-event', task: { priority: 5 } });
    expect(priority.body.error.message).toBe('task.priority: not for a trigger of a workflow (its Task states set their tasks\')');

    const hook = (await api('POST', '/v1/triggers', { name: 'wf-hook', kind: 'webhook', workflowId: 'on-event' })).body;
    expect(hook).toMatchObject({ workflowId: expect.stringMatching(/^wf_/), functionId: null });
    const body = JSON.stringify({ clip: 'a.mp4' });
    const send = () =>
      fetch(`${server.url}${hook.hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signWebhook(secretKey(hook.secret), 'msg_wf_1', Date.now(), body) }, body });
    const first = await send();
    const { executionId } = (await first.json()) as { executionId: string };
    expect(first.status).toBe(202);
    const replay = await send();
    expect([replay.status, ((await replay.json()) as Json).error.details]).toEqual([409, { executionId }]);
    expect((await ended(executionId)).output).toEqual({ got: { clip: 'a.mp4' } });
    expect((await api('GET', `/v1/triggers/${hook.id}/tasks`)).body.items).toMatchObject([{ eventKey: 'msg_wf_1', executionId }]);

    const task = await server.client.submit({ functionId: 'step', input: { output: { x: 1 } }, destinations: { onSuccess: { workflow: { workflowId: 'on-event' } } } });
    const [delivery] = await eventually(async () => {
      const d = (await api('GET', `/v1/tasks/${task.id}/deliveries`)).body.items as Json[];
      return d[0]?.status === 'DELIVERED' ? d : undefined;
    }, 20_000, 'the delivery');
    expect(delivery).toMatchObject({ kind: 'workflow', resultTaskId: null, resultExecutionId: expect.stringMatching(/^exe_/) });
    expect((await ended(delivery!.resultExecutionId)).output).toEqual({ got: { x: 1 } });
    const noWorkflow = await api('POST', '/v1/tasks', { functionId: 'step', destinations: { onSuccess: { workflow: { workflowId: 'nope' } } } });
    expect(noWorkflow.body.error.message).toBe('destinations.onSuccess.workflow.workflowId: no workflow nope');
  });
});
