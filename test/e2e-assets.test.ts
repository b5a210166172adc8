import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAsset, uploadAsset } from '../src/sdk/asset-files.js';
import { FerryClient } from '../src/sdk/client.js';
import { FerryServer, eventually, jobFunction } from './helpers/ferry-server.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** The JSON of an answer, loosely typed: the cases read the fields they check. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const errorOf = async (res: Response): Promise<{ code: string; message: string }> => ((await res.json()) as Json).error;

describe('assets: pre-signed upload and download through the disk blob store', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_ASSET_SWEEP_MS: '200' });
  let api: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; json: Json }>;

  beforeAll(async () => {
    await server.start();
    api = async (method, path, body, token = server.adminKey) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    };
  });
  afterAll(() => server.dispose());

  const put = (url: string, body: Buffer, headers: Record<string, string> = {}) => fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream', ...headers } });
  const parts = (): string[] => readdirSync(join(server.dataDir, 'blobs', 'parts'));

  it('is PENDING until bytes of the declared size and checksum arrive, then READY with a download URL that serves them, ranges too', async () => {
    const bytes = randomBytes(300_000);
    const created = await api('POST', '/v1/assets', { contentType: 'image/png', description: 'a picture', sizeBytes: bytes.length, sha256: sha256(bytes) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.stringMatching(/^asset_/), status: 'PENDING', uploadUrl: expect.stringContaining(`/v1/blobs/${created.json.id}?`), expiresAt: expect.any(String) });
    expect((await api('GET', `/v1/assets/${created.json.id}`)).json).toMatchObject({ status: 'PENDING', uploadUrl: expect.any(String) });

    const uploaded = await put(created.json.uploadUrl, bytes);
    expect(uploaded.status).toBe(200);
    expect(await uploaded.json()).toMatchObject({ id: created.json.id, status: 'READY', sizeBytes: bytes.length, sha256: sha256(bytes) });

    const got = await api('GET', `/v1/assets/${created.json.id}`);
    expect(got.json).toMatchObject({ status: 'READY', contentType: 'image/png', description: 'a picture', sizeBytes: bytes.length, downloadUrl: expect.any(String) });
    const whole = await fetch(got.json.downloadUrl);
    expect([whole.status, whole.headers.get('content-type'), whole.headers.get('content-length'), whole.headers.get('accept-ranges')]).toEqual([200, 'image/png', String(bytes.length), 'bytes']);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(got.json.downloadUrl, { headers: { range: 'bytes=1000-1999' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 1000-1999/${bytes.length}`]);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    const tail = await fetch(got.json.downloadUrl, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);
    expect((await fetch(got.json.downloadUrl, { headers: { range: `bytes=${bytes.length}-` } })).status).toBe(416);
    // Once READY the bytes are fixed: another PUT is refused.
    expect((await put(created.json.uploadUrl, bytes)).status).toBe(409);
  });

  it('keeps nothing of an upload larger than declared (413), of one whose size or checksum is off (400), or of one cut off mid-way; each may be retried', async () => {
    const bytes = randomBytes(200_000);
    const { json: asset } = await api('POST', '/v1/assets', { contentType: 'application/octet-stream', sizeBytes: bytes.length, sha256: sha256(bytes) });

    const tooLarge = await put(asset.uploadUrl, Buffer.concat([bytes, Buffer.from('x')]));
    expect([tooLarge.status, (await errorOf(tooLarge)).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const short = await put(asset.uploadUrl, bytes.subarray(1));
    expect([short.status, (await errorOf(short)).message]).toEqual([400, expect.stringContaining(`${bytes.length - 1} bytes where ${bytes.length} were declared`)]);
    const flipped = Buffer.from(bytes);
    flipped[5]! ^= 1;
    const wrongSum = await put(asset.uploadUrl, flipped);
    expect([wrongSum.status, (await errorOf(wrongSum)).message]).toEqual([400, expect.stringContaining('sha256')]);

    // Half the declared bytes, then the connection dies.
    await new Promise<void>((resolve) => {
      const req = request(asset.uploadUrl, { method: 'PUT', headers: { 'content-length': bytes.length } });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, 100_000), () => setTimeout(() => req.destroy(), 100));
    });
    expect((await api('GET', `/v1/assets/${asset.id}`)).json.status).toBe('PENDING');
    await eventually(async () => (parts().length === 0 ? true : undefined), 5_000, 'the cut upload’s part file to go');

    expect((await put(asset.uploadUrl, bytes)).status).toBe(200);
    expect((await api('GET', `/v1/assets/${asset.id}`)).json).toMatchObject({ status: 'READY', sha256: sha256(bytes) });
  });

  it('takes one upload of an asset at a time', async () => {
    const bytes = randomBytes(100_000);
    const { json: asset } = await api('POST', '/v1/assets', { contentType: 'application/octet-stream', sizeBytes: bytes.length });
    const first = request(asset.uploadUrl, { method: 'PUT', headers: { 'content-length': bytes.length } });
    const answered = new Promise<number>((resolve) => first.on('response', (res) => resolve(res.statusCode ?? 0)));
    first.write(bytes.subarray(0, 50_000));
    await eventually(async () => (parts().length > 0 ? true : undefined), 5_000, 'the first upload to start landing');
    const second = await put(asset.uploadUrl, bytes);
    expect([second.status, (await errorOf(second)).code]).toEqual([409, 'ASSET_UPLOADING']);
    first.end(bytes.subarray(50_000));
    expect(await answered).toBe(200);
    expect((await api('GET', `/v1/assets/${asset.id}`)).json.status).toBe('READY');
  });

  it('refuses an altered, unsigned or expired transfer URL with 403', async () => {
    const { json: asset } = await api('POST', '/v1/assets', { contentType: 'text/plain', ttlSeconds: 1 });
    const url = new URL(asset.uploadUrl);
    for (const [param, value] of [['max', '999999999999'], ['expires', String(Date.now() + 3_600_000)], ['sig', 'A'.repeat(43)]] as const) {
      const altered = new URL(url);
      altered.searchParams.set(param, value);
      const res = await put(altered.toString(), Buffer.from('hello'));
      expect([res.status, (await errorOf(res)).code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await put(`${server.url}/v1/blobs/${asset.id}`, Buffer.from('hello'))).status).toBe(403);
    // A GET with the upload's signature is not a download.
    expect((await fetch(url.toString())).status).toBe(403);
    await new Promise((r) => setTimeout(r, 1_100));
    const late = await put(url.toString(), Buffer.from('hello'));
    expect([late.status, (await errorOf(late)).message]).toEqual([403, expect.stringContaining('expired')]);
  });

  it('keeps assets to their tenant, lists them newest first, and deletes one with its bytes', async () => {
    const tenant = await server.client.createTenant('asset-owner');
    const theirs = await api('POST', '/v1/assets', { contentType: 'text/plain' }, tenant.adminKey.key);
    expect((await api('GET', `/v1/assets/${theirs.json.id}`)).status).toBe(404);
    expect((await api('DELETE', `/v1/assets/${theirs.json.id}`)).status).toBe(404);
    const listed = await api('GET', '/v1/assets?limit=1', undefined, tenant.adminKey.key);
    expect(listed.json.items.map((a: { id: string }) => a.id)).toEqual([theirs.json.id]);

    const mine = (await api('POST', '/v1/assets', { contentType: 'text/plain' })).json;
    await put(mine.uploadUrl, Buffer.from('bye'));
    const { downloadUrl } = (await api('GET', `/v1/assets/${mine.id}`)).json;
    expect((await api('GET', '/v1/assets?status=READY')).json.items[0].id).toBe(mine.id);
    expect((await api('DELETE', `/v1/assets/${mine.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/assets/${mine.id}`)).json.error.code).toBe('ASSET_NOT_FOUND');
    expect((await fetch(downloadUrl)).status).toBe(404);
  });

  it('goes up and comes back byte for byte through the SDK and `ferry assets`', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ferry-assets-'));
    try {
      const file = join(scratch, 'shard.bin');
      const bytes = randomBytes(1_500_000);
      writeFileSync(file, bytes);
      const up = await server.cli('--output', 'json', 'assets', 'upload', file, '--type', 'application/x-shard', '--description', 'shard 1');
      expect(up.code, up.stderr).toBe(0);
      const asset = JSON.parse(up.stdout) as Json;
      expect(asset).toMatchObject({ status: 'READY', contentType: 'application/x-shard', sizeBytes: bytes.length, sha256: sha256(bytes) });
      const down = await server.cli('assets', 'download', asset.id, '--out', join(scratch, 'back.bin'));
      expect(down.code, down.stderr).toBe(0);
      expect(readFileSync(join(scratch, 'back.bin')).equals(bytes)).toBe(true);

      const fromSdk = await uploadAsset(server.client, Buffer.from('small and exact'), { contentType: 'text/plain' });
      await downloadAsset(server.client, fromSdk.id, join(scratch, 'small.txt'));
      expect(readFileSync(join(scratch, 'small.txt'), 'utf8')).toBe('small and exact');
      expect((await server.cli('assets', 'delete', fromSdk.id)).code).toBe(0);
      const gone = await server.cli('assets', 'get', fromSdk.id);
      expect([gone.code, gone.stderr]).toEqual([expect.any(Number), expect.stringContaining('no asset')]);
      expect(gone.code).not.toBe(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('deletes an asset past its time with its bytes, and keeps a pinned one', async () => {
    const [brief, pinned] = await Promise.all([
      uploadAsset(server.client, Buffer.from('brief'), { ttlSeconds: 1 }),
      uploadAsset(server.client, Buffer.from('kept'), { ttlSeconds: 1, pinned: true }),
    ]);
    expect(pinned.keepUntil).toBeNull();
    const blob = (id: string): boolean => readdirSync(join(server.dataDir, 'blobs')).includes(id);
    expect(blob(brief.id)).toBe(true);
    await eventually(async () => (blob(brief.id) ? undefined : true), 5_000, 'the expired asset’s bytes to go');
    expect((await api('GET', `/v1/assets/${brief.id}`)).status).toBe(404);
    expect((await server.client.assets.list()).items.map((a) => a.id)).not.toContain(brief.id);
    expect([blob(pinned.id), (await server.client.assets.get(pinned.id)).status]).toEqual([true, 'READY']);
  });

  it('refuses a bad asset request naming the field', async () => {
    const bad = await api('POST', '/v1/assets', { contentType: 'not a type', sizeBytes: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/contentType|sizeBytes/);
    expect((await api('POST', '/v1/assets', { contentType: 'text/plain', sha256: 'xyz' })).json.error.message).toMatch(/sha256/);
  });
});

describe('input assets: named by a task, fetched by the node into its input-assets directory, through its cache', () => {
  const server = new FerryServer();
  let functionId = '';

  beforeAll(async () => {
    await server.start();
    const fn = await server.client.createFunction(jobFunction('checksums', {}, { concurrency: 2 }));
    functionId = fn.id;
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
  });
  afterAll(() => server.dispose());

  const fetches = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.adminKey}` } })).text();
    const count = (result: string): number => Number(text.split('\n').find((l) => l.startsWith(`ferry_node_asset_fetches_total{result="${result}"}`))?.split(' ')[1] ?? 0);
    return { download: count('download'), hit: count('hit') };
  };

  it('hands a job its assets byte for byte, downloads each once per node, and holds them while a task uses them', async () => {
    const weights = randomBytes(2_000_000);
    const shard = randomBytes(70_000);
    const a = await uploadAsset(server.client, weights, { contentType: 'application/octet-stream' });
    const b = await uploadAsset(server.client, shard, { contentType: 'application/octet-stream' });

    const first = await server.client.submit({ functionId, input: { checksumInputs: true }, inputAssets: [a.id, b.id] });
    expect(first.inputAssets).toEqual([a.id, b.id]);
    const done = await server.client.wait(first.id, { timeoutMs: 20_000 });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ assets: { [a.id]: { sizeBytes: weights.length, sha256: sha256(weights) }, [b.id]: { sizeBytes: shard.length, sha256: sha256(shard) } } });
    expect(await fetches()).toEqual({ download: 2, hit: 0 });

    // The same weights again, by invoke and its header: from the node's cache.
    const again = await fetch(`${server.url}/v1/functions/${functionId}/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json', 'ferry-input-assets': a.id, prefer: 'wait=20' },
      body: JSON.stringify({ checksumInputs: true }),
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ assets: { [a.id]: { sizeBytes: weights.length, sha256: sha256(weights) } } });
    expect(await fetches()).toEqual({ download: 2, hit: 1 });

    // A queued task holds its assets: deleting one is refused until the task has ended.
    const held = await server.client.submit({ functionId, input: { sleepMs: 1_500 }, inputAssets: [b.id] });
    const refused = await fetch(`${server.url}/v1/assets/${b.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.adminKey}` } });
    expect([refused.status, (await errorOf(refused)).code]).toEqual([409, 'ASSET_IN_USE']);
    await server.client.wait(held.id, { timeoutMs: 20_000 });
    await server.client.assets.delete(b.id);
  });

  it('keeps the files a job leaves in its output directory, and an output file over the inline limit, as assets of the task', async () => {
    const picture = randomBytes(30_000);
    const task = await server.client.submit({ functionId, input: { writeFiles: { 'frame.png': picture.toString('base64'), 'logs/run.txt': Buffer.from('done').toString('base64') }, outputBytes: 2_000_000 } });
    const done = await server.client.wait(task.id, { timeoutMs: 20_000 });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.outputAssets.map((a) => [a.name, a.sizeBytes, a.contentType])).toEqual([
      ['output', 2_000_000, 'application/octet-stream'],
      ['frame.png', picture.length, 'image/png'],
      ['logs/run.txt', 4, 'text/plain'],
    ]);
    const listed = await server.client.assets.list({ taskId: task.id });
    expect(listed.items.map((a) => [a.name, a.status]).sort()).toEqual([['frame.png', 'READY'], ['logs/run.txt', 'READY'], ['output', 'READY']]);
    const scratch = mkdtempSync(join(tmpdir(), 'ferry-outputs-'));
    try {
      await downloadAsset(server.client, done.outputAssets[1]!.id, join(scratch, 'frame.png'));
      expect(readFileSync(join(scratch, 'frame.png')).equals(picture)).toBe(true);
      const output = await server.client.taskOutputResponse(task.id);
      expect(Buffer.from(await output.arrayBuffer()).equals(Buffer.alloc(2_000_000, 'y'))).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('uploads a file and hands it to the task in one `ferry invoke --input-asset`', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ferry-invoke-asset-'));
    try {
      const bytes = randomBytes(300_000);
      writeFileSync(join(scratch, 'clip.bin'), bytes);
      const run = await server.cli('--output', 'json', 'invoke', 'checksums', '--data', '{"checksumInputs":true}', '--input-asset', join(scratch, 'clip.bin'));
      expect(run.code, run.stderr).toBe(0);
      const sums = Object.values((JSON.parse(run.stdout) as { assets: Record<string, { sha256: string }> }).assets);
      expect(sums).toEqual([{ sizeBytes: bytes.length, sha256: sha256(bytes) }]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses an unknown, foreign or unfinished asset, naming it', async () => {
    const pending = await server.client.assets.create({ contentType: 'text/plain' });
    const tenant = await server.client.createTenant('someone-else');
    const theirs = await new FerryClient(server.url, tenant.adminKey.key).assets.create({ contentType: 'text/plain' });
    for (const [id, why] of [['asset_0000000000nothere', `no asset asset_0000000000nothere`], [theirs.id, `no asset ${theirs.id}`], [pending.id, `asset ${pending.id} is PENDING`]] as const) {
      await expect(server.client.submit({ functionId, input: {}, inputAssets: [id] })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining(why) });
    }
    await expect(server.client.submit({ functionId, input: {}, inputAssets: ['not-an-asset'] })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('inputAssets') });
  });
});
