import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer } from './helpers/ferry-server.js';

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
});
