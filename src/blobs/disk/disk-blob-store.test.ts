import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { runBlobStoreContract } from '../blob-store.contract.js';
import { DiskBlobStore } from './disk-blob-store.js';

/** The served protocol, as Ferry's /v1/blobs routes speak it (those routes are tested end to end in test/e2e-assets). */
async function open() {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-disk-blobs-'));
  const blobs = await DiskBlobStore.open(dir, randomBytes(32), systemClock);
  const terms = (url: string, method: 'GET' | 'PUT') => {
    const u = new URL(url);
    const id = u.pathname.split('/').pop()!;
    return { id, granted: blobs.authorize(method, id, Object.fromEntries(u.searchParams)) };
  };
  const transport = {
    put: async (url: string, body: Buffer) => {
      const { id, granted } = terms(url, 'PUT');
      await blobs.write(id, Readable.from([body]), granted.maxBytes, async () => {});
    },
    get: async (url: string) => {
      const { id } = terms(url, 'GET');
      const read = await blobs.read(id, null);
      return buffer(read!.body);
    },
  };
  return { blobs, transport, close: () => rm(dir, { recursive: true, force: true }) };
}

runBlobStoreContract('disk', open);

it('refuses a served transfer whose terms were altered, and an upload over its limit keeps nothing', async () => {
  const { blobs, close } = await open();
  try {
    const url = new URL(await blobs.uploadUrl('asset_x1', { origin: 'http://h', expiresAt: Date.now() + 60_000, maxBytes: 4, contentType: 'text/plain', sizeBytes: 4, sha256: null }));
    const query = Object.fromEntries(url.searchParams);
    expect(() => blobs.authorize('PUT', 'asset_x1', { ...query, max: '5' })).toThrow(/signature/);
    expect(() => blobs.authorize('GET', 'asset_x1', query)).toThrow(/signature/);
    await expect(blobs.write('asset_x1', Readable.from([Buffer.from('12345')]), 4, async () => {})).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await blobs.stat('asset_x1')).toBeNull();
    // Bytes refused once they arrived replace nothing already stored.
    await blobs.write('asset_x1', Readable.from([Buffer.from('good')]), 4, async () => {});
    await expect(blobs.write('asset_x1', Readable.from([Buffer.from('evil')]), 4, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect((await blobs.stat('asset_x1'))?.sizeBytes).toBe(4);
    const read = await blobs.read('asset_x1', null);
    expect((await buffer(read!.body)).toString()).toBe('good');
  } finally {
    await close();
  }
});
