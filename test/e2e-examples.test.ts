import { execFileSync } from 'node:child_process';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, eventually } from './helpers/ferry-server.js';

/** Whether ffmpeg is here; under CI it must be (the video pipeline is then tested, never skipped). */
function ffmpegAvailable(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('ffmpeg is required under CI (the video pipeline example runs it)');
    return false;
  }
}
const ffmpeg = ffmpegAvailable();

/** A webhook receiver on 127.0.0.1 keeping the JSON bodies it got. */
async function receiver(): Promise<{ url: string; got: Record<string, unknown>[]; server: Server }> {
  const got: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

/** The examples as `npm start` deploys them (`ferry server --examples`). */
describe('the examples', () => {
  const server = new FerryServer(['--gpus', 'none', '--examples']);
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  it('png-image answers a PNG, byte for byte through invoke, kept as the task’s output asset', async () => {
    const invoked = await fetch(`${server.url}/v1/functions/png-image/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({ width: 40, height: 30, seed: 3 }),
      redirect: 'manual',
    });
    expect(invoked.status).toBe(302);
    const taskId = invoked.headers.get('ferry-task-id')!;
    const res = await fetch(invoked.headers.get('location')!);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([40, 30]);
    const task = await server.client.getTask(taskId);
    expect(task.outputAssets).toEqual([{ id: expect.any(String), name: 'response', sizeBytes: png.length, contentType: 'image/png' }]);
  }, 90_000);

  it('python-batch leaves its product in its output directory, kept as an output asset', async () => {
    const task = await server.client.submit({ functionId: 'python-batch', input: { seconds: 1 } });
    const done = await server.client.wait(task.id, { timeoutMs: 90_000 });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.outputAssets.map((a) => a.name)).toEqual([expect.stringMatching(/^(clip\.webm|frames\.txt)$/)]);
  }, 120_000);

  it.skipIf(!ffmpeg)('video-pipeline: splits a clip, transcodes the chunks two at a time, joins them in order and notifies; a corrupt chunk is retried, then caught', async () => {
    const hook = await receiver();
    const { workflows } = server.client;
    const ok = await workflows.run('video-pipeline', { input: { seconds: 6, chunkSeconds: 2, notifyUrl: hook.url } });
    const done = await eventually(async () => {
      const e = await workflows.execution(ok.id);
      return e.status === 'RUNNING' ? undefined : e;
    }, 120_000, 'the pipeline to end');
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { chunks: 3, video: { name: 'video.mp4', contentType: expect.any(String) } } });
    const output = done.output as { durationSeconds: number; video: { id: string; sizeBytes: number } };
    expect(output.durationSeconds).toBeGreaterThan(5.5);
    expect(output.durationSeconds).toBeLessThan(6.5);
    expect(hook.got).toEqual([{ event: 'video.ready', video: done.output }]);
    const video = Buffer.from(await (await fetch((await server.client.assets.get(output.video.id)).downloadUrl!)).arrayBuffer());
    expect(video.length).toBe(output.video.sizeBytes);
    expect(video.subarray(4, 8).toString()).toBe('ftyp');
    const steps = (await workflows.tasks(ok.id)).items;
    expect(steps.map((t) => t.state)).toEqual(['Split', 'TranscodeChunk', 'TranscodeChunk', 'TranscodeChunk', 'Concatenate', 'Notify']);
    const chunks = steps.filter((t) => t.state === 'TranscodeChunk').map((t) => [Date.parse(t.startedAt!), Date.parse(t.finishedAt!)] as const);
    for (const [start] of chunks) expect(chunks.filter(([s, f]) => s <= start && start < f).length).toBeLessThanOrEqual(2);

    const broken = await workflows.run('video-pipeline', { input: { seconds: 4, chunkSeconds: 2, corruptChunk: 1, notifyUrl: hook.url } });
    const failed = await eventually(async () => {
      const e = await workflows.execution(broken.id);
      return e.status === 'RUNNING' ? undefined : e;
    }, 120_000, 'the broken pipeline to end');
    expect(failed).toMatchObject({ status: 'FAILED', error: { Error: 'TranscodeFailed' } });
    const history = (await workflows.history(broken.id)).items;
    expect(history.filter((h) => h.type === 'StateRetrying').map((h) => h.state)).toEqual(['TranscodeChunk']);
    expect(history.filter((h) => h.type === 'StateCaught').map((h) => h.state)).toEqual(['Transcode']);
    expect(hook.got[1]).toMatchObject({ event: 'video.failed', error: { Error: 'EXIT_CODE' } });
    hook.server.close();
  }, 240_000);
});
