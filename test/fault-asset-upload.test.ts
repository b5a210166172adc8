import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryServer, eventually } from './helpers/ferry-server.js';

/**
 * kill -9 of the server while an upload streams in: the asset is not READY with the bytes that
 * had arrived, nothing partial sits under its name, and the upload can be done again after the
 * restart with a fresh URL.
 */
describe('kill -9 of the server in the middle of an upload', () => {
  const server = new FerryServer();
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  it('leaves the asset PENDING with nothing under its name, and takes the retried upload whole', async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const asset = await server.client.assets.create({ contentType: 'application/octet-stream', sizeBytes: bytes.length, sha256 });

    // Half the bytes go in; the server dies while the rest are still to come.
    const cut = new Promise<void>((resolve) => {
      const req = request(asset.uploadUrl!, { method: 'PUT', headers: { 'content-length': bytes.length, 'content-type': 'application/octet-stream' } });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(bytes.subarray(0, bytes.length / 2));
    });
    const parts = join(server.dataDir, 'blobs', 'parts');
    await eventually(async () => (readdirSync(parts).length > 0 ? true : undefined), 5_000, 'the upload to start landing');
    await server.kill9();
    await cut;

    await server.start();
    const after = await server.client.assets.get(asset.id);
    expect(after.status).toBe('PENDING');
    expect(readdirSync(join(server.dataDir, 'blobs'))).not.toContain(asset.id);

    const retried = await fetch(after.uploadUrl!, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(retried.status).toBe(200);
    const ready = await server.client.assets.get(asset.id);
    expect(ready).toMatchObject({ status: 'READY', sizeBytes: bytes.length, sha256 });
    const back = Buffer.from(await (await fetch(ready.downloadUrl!)).arrayBuffer());
    expect(back.equals(bytes)).toBe(true);
  }, 60_000);
});
