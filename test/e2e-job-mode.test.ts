import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, alive, eventually, jobFunction, pidsFrom } from './helpers/ferry-server.js';

describe('job mode, end to end through the HTTP API', () => {
  const server = new FerryServer(['--gpus', '1xL4:23034']);
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-job-'));
  let functionId: string;

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('batch', {}, { concurrency: 2, retries: 2, timeoutSeconds: 60 }));
    functionId = fn.id;
    await server.client.deploy(functionId, fn.version.id, { minInstances: 0, maxInstances: 1, targetPerInstance: 2 });
  });
  afterAll(async () => {
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs a command with the contract env, stdin, progress, logs and output file', async () => {
    const res = await server.client.invoke(functionId, { output: { frames: 3 }, progress: 40, logLines: 3 }, { waitSeconds: 20 });
    expect(res).toMatchObject({ done: true, output: { frames: 3 } });
    const task = await server.client.getTask(res.taskId);
    expect(task).toMatchObject({ status: 'SUCCEEDED', progress: 100, taskType: 'command' });
    const logs = await server.client.taskLogs(res.taskId);
    expect(logs.lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('takes text output as text and a missing output file as null', async () => {
    expect(await server.client.invoke(functionId, { outputText: 'plain words' }, { waitSeconds: 20 })).toMatchObject({ output: 'plain words' });
    expect(await server.client.invoke(functionId, {}, { waitSeconds: 20 })).toMatchObject({ output: null });
  });

  it('retries a failing command with back-off, then fails with its exit code', async () => {
    const { id } = await server.client.submit({ functionId, input: { exitCode: 3 } });
    const task = await server.client.wait(id, { timeoutMs: 20_000 });
    expect(task).toMatchObject({ status: 'FAILED', attempt: 3, maxAttempts: 3, error: { code: 'EXIT_CODE', exitCode: 3 } });
    const logs = await server.client.taskLogs(id);
    expect(new Set(logs.lines.map((l) => l.attempt))).toEqual(new Set([1, 2, 3]));
    expect(logs.lines.some((l) => l.text === 'failing with 3')).toBe(true);
  });

  it('ends a task that runs past its timeout as TIMED_OUT and kills it', async () => {
    const pidFile = join(scratch, 'timeout.pid');
    const fn = await server.client.createFunction(jobFunction('slow', {}, { timeoutSeconds: 1 }));
    await server.client.deploy(fn.id, fn.version.id, { maxInstances: 1 });
    const { id } = await server.client.submit({ functionId: fn.id, input: { sleepMs: 30_000, pidFile, child: true } });
    const task = await server.client.wait(id, { timeoutMs: 20_000 });
    expect(task).toMatchObject({ status: 'TIMED_OUT', error: { code: 'TIMED_OUT' } });
    const { pid, childPid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; childPid: number };
    await eventually(async () => (!alive(pid) && !alive(childPid) ? true : undefined), 2000, 'the job and its child to be gone');
  });

  it('cancels a running job: it and its child process are gone within 2 s, even when it ignores SIGTERM', async () => {
    const pidFile = join(scratch, 'cancel.pid');
    const { id } = await server.client.submit({ functionId, input: { sleepMs: 30_000, pidFile, child: true, ignoreTerm: true } });
    const { pid, childPid } = await pidsFrom(pidFile);
    const t0 = Date.now();
    expect((await server.client.cancelTask(id)).status).toBe('CANCELLING');
    await eventually(async () => (!alive(pid) && !alive(childPid) ? true : undefined), 2000, 'the job to be killed');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await server.client.wait(id, { timeoutMs: 5000 })).status).toBe('CANCELLED');
    await expect(server.client.cancelTask(id)).rejects.toMatchObject({ code: 'TASK_NOT_CANCELLABLE' });
  });

  it('keeps an output over the inline limit as the task’s output asset, answered whole by /output', async () => {
    const text = 'x'.repeat(1024 * 1024 + 1);
    const res = await server.client.submit({ functionId, input: { outputText: text } });
    const task = await server.client.wait(res.id, { timeoutMs: 20_000 });
    expect(task).toMatchObject({ status: 'SUCCEEDED', output: null, outputAssets: [{ name: 'output', sizeBytes: text.length }] });
    expect(await (await server.client.taskOutputResponse(res.id)).text()).toBe(text);
  });

  it('scales from zero for queued work and reports the queue', async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(() => server.client.submit({ functionId, input: { sleepMs: 300 } })));
    const q = await server.client.queue(functionId);
    expect(q.queued + q.running).toBeGreaterThan(0);
    for (const t of ids) expect((await server.client.wait(t.id, { timeoutMs: 20_000 })).status).toBe('SUCCEEDED');
    const after = await server.client.queue(functionId);
    expect(after).toMatchObject({ queued: 0, running: 0 });
  });
});
