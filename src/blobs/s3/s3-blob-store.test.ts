import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import { runBlobStoreContract } from '../blob-store.contract.js';
import { S3BlobStore } from './s3-blob-store.js';

/**
 * A real S3-protocol server on 127.0.0.1 (s3rver, from the npm registry: the only S3 server
 * installable here), its default credentials given to the SDK's standard chain, one bucket per
 * store made by the contract.
 */
let server: S3rver;
let dir = '';
let endpoint = '';
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: Array.from({ length: 4 }, (_, i) => ({ name: `ferry-contract-${i}`, configs: [] })) });
  const address = (await server.run()) as AddressInfo;
  endpoint = `http://127.0.0.1:${address.port}`;
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

runBlobStoreContract('s3', async () => {
  const blobs = await S3BlobStore.open({ bucket: `ferry-contract-${n++ % 4}`, prefix: `run-${randomBytes(4).toString('hex')}/`, endpoint, region: 'us-east-1' });
  const transport = {
    put: async (url: string, body: Buffer, contentType: string) => {
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType } });
      if (!res.ok) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
    },
    get: async (url: string) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`GET answered ${res.status}: ${await res.text()}`);
      return Buffer.from(await res.arrayBuffer());
    },
  };
  return { blobs, transport, close: async () => {} };
});
