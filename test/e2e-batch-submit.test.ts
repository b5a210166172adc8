import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../src/core/errors.js';
import type { SubmitRequest } from '../src/sdk/client.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';

describe('batch submit: POST /v1/tasks/batch, the SDK and ferry invoke --batch', () => {
  const server = new FerryServer();
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-batch-'));
  let functionId = '';

  beforeAll(async () => {
    await server.start();
    // Its instance takes minutes to start: every task stays queued, so positions are exact.
    const fn = await server.client.createFunction(serverFunction('held', { runtime: { type: 'process', command: [process.execPath, join(import.meta.dirname, 'fixtures', 'server.mjs')], env: { FIXTURE_START_MS: '600000' } } }));
    functionId = fn.id;
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
  });
  afterAll(async () => {
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  const queued = async (): Promise<number> => (await server.client.queue(functionId)).queued;

  it('stores 1,000 tasks in one request, in order, each with its position, and refuses only the tasks that cannot be stored', async () => {
    const earlier = await server.client.submit({ functionId, input: { n: 'earlier' }, idempotencyKey: 'batch-same' });
    await server.client.submit({ functionId, input: { n: 'other' }, idempotencyKey: 'batch-other' });
    const tasks: SubmitRequest[] = Array.from({ length: 1_000 }, (_, n) => ({ functionId, input: { n } }));
    tasks[10] = { functionId: 'no-such-function', input: { n: 10 } };
    tasks[20] = { functionId, input: { n: 'earlier' }, idempotencyKey: 'batch-same' };
    tasks[30] = { functionId, input: { n: 30 }, idempotencyKey: 'batch-other' };
    const items = await server.client.submitBatch(tasks);

    expect(items).toHaveLength(1_000);
    expect(items[10]).toMatchObject({ error: { code: 'FUNCTION_NOT_FOUND' } });
    expect((items[10] as { error: FerryError }).error).toBeInstanceOf(FerryError);
    expect(items[20]).toEqual({ id: earlier.id, status: 'QUEUED', position: 0 });
    expect(items[30]).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    const stored = items.filter((item, i) => ![10, 20, 30].includes(i)) as { id: string; status: string; position: number }[];
    expect(stored).toHaveLength(997);
    // Behind the two tasks submitted before, one after another in the order given.
    expect(stored.map((s) => s.position)).toEqual(stored.map((_, k) => k + 2));
    expect(stored.every((s) => s.status === 'QUEUED')).toBe(true);
    for (const i of [0, 11, 999]) expect((await server.client.getTask((items[i] as { id: string }).id)).input).toEqual({ n: i });
    expect(await queued()).toBe(999);
  });

  it('refuses a batch that is not well formed, naming the field, and stores none of it', async () => {
    const before = await queued();
    const post = (body: unknown): Promise<Response> =>
      fetch(`${server.url}/v1/tasks/batch`, { method: 'POST', headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ tasks: [{ functionId, input: 1 }, { functionId, priority: 1_000 }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^tasks\.1\.priority: /);
    const tooMany = await post({ tasks: Array.from({ length: 1_001 }, () => ({ functionId })) });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { message: string } }).error.message).toMatch(/^tasks: /);
    expect((await post({ tasks: [] })).status).toBe(400);
    expect(await queued()).toBe(before);
  });

  it('ferry invoke --batch submits a file line by line, and with --idempotency-key a second run stores nothing twice', async () => {
    const file = join(scratch, 'inputs.jsonl');
    writeFileSync(file, '{"frame": 1}\n{"frame": 2}\n\n"three"\n');
    const first = await server.cli('--output', 'json', 'invoke', 'held', '--batch', file, '--idempotency-key', 'frames');
    expect(first.code).toBe(0);
    const lines = JSON.parse(first.stdout) as { line: number; taskId: string; status: string }[];
    expect(lines.map((l) => [l.line, l.status])).toEqual([
      [1, 'QUEUED'],
      [2, 'QUEUED'],
      [4, 'QUEUED'],
    ]);
    expect((await server.client.getTask(lines[2]!.taskId)).input).toBe('three');
    const again = await server.cli('--output', 'json', 'invoke', 'held', '--batch', file, '--idempotency-key', 'frames');
    expect((JSON.parse(again.stdout) as { taskId: string }[]).map((l) => l.taskId)).toEqual(lines.map((l) => l.taskId));

    const refused = await server.cli('invoke', 'no-such-function', '--batch', file);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('FUNCTION_NOT_FOUND');
    const broken = join(scratch, 'broken.jsonl');
    writeFileSync(broken, '{"ok": 1}\n{not json\n');
    const refusedFile = await server.cli('invoke', 'held', '--batch', broken);
    expect(refusedFile.code).toBe(2);
    expect(refusedFile.stderr).toContain(`${broken}:2: not a JSON value`);
    await eventually(async () => ((await queued()) === 1_002 ? true : undefined), 5_000, 'the queue to hold the file’s tasks');
  });
});
