import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAsset, uploadAsset } from '../src/sdk/asset-files.js';
import { FerryServer, jobFunction } from './helpers/ferry-server.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `--blobs s3://…` against a real S3-protocol server (s3rver) on 127.0.0.1: the bytes never pass through Ferry. */
describe('assets in an S3 bucket', () => {
  let s3: S3rver;
  let dir = '';
  let server: FerryServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-e2e-s3-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'ferry-e2e', configs: [] }] });
    const { port } = (await s3.run()) as AddressInfo;
    server = new FerryServer(['--gpus', 'none', '--blobs', `s3://ferry-e2e/assets?endpoint=http://127.0.0.1:${port}&region=us-east-1`], { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    await server.start();
  });
  afterAll(async () => {
    await server.dispose();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads to the bucket, hands the asset to a job, keeps its output file there, and downloads both back', async () => {
    const bytes = randomBytes(3_000_000);
    await writeFile(join(dir, 'in.bin'), bytes);
    const asset = await uploadAsset(server.client, join(dir, 'in.bin'));
    expect(asset).toMatchObject({ status: 'READY', sizeBytes: bytes.length, sha256: sha256(bytes), downloadUrl: expect.stringContaining('/ferry-e2e/assets/') });

    const fn = await server.client.createFunction(jobFunction('s3-checksums'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const made = randomBytes(50_000);
    const task = await server.client.submit({ functionId: fn.id, input: { checksumInputs: true, writeFiles: { 'made.bin': made.toString('base64') } }, inputAssets: [asset.id] });
    const done = await server.client.wait(task.id, { timeoutMs: 30_000 });
    expect(done.output).toEqual({ assets: { [asset.id]: { sizeBytes: bytes.length, sha256: sha256(bytes) } } });
    expect(done.outputAssets).toEqual([{ id: expect.any(String), name: 'made.bin', sizeBytes: made.length, contentType: 'application/octet-stream' }]);

    await downloadAsset(server.client, asset.id, join(dir, 'back.bin'));
    expect((await readFile(join(dir, 'back.bin'))).equals(bytes)).toBe(true);
    await downloadAsset(server.client, done.outputAssets[0]!.id, join(dir, 'made.bin'));
    expect((await readFile(join(dir, 'made.bin'))).equals(made)).toBe(true);
    // Ferry serves no transfers of its own here.
    expect((await fetch(`${server.url}/v1/blobs/${asset.id}?expires=1&max=1&sig=x`)).status).toBe(404);
  }, 60_000);
});
