import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';

/** How a contract case moves bytes through an adapter's URLs: as a client would (HTTP, or the served protocol). */
export interface BlobTransport {
  put(url: string, body: Buffer, contentType: string): Promise<void>;
  get(url: string): Promise<Buffer>;
}

/**
 * The blob store port's contract: every adapter passes it unchanged (STYLE.md 2). `make` gives a
 * fresh, empty store and the transport its URLs are used through.
 */
export function runBlobStoreContract(name: string, make: () => Promise<{ blobs: BlobStore; transport: BlobTransport; close: () => Promise<void> }>): void {
  describe(`blob store contract: ${name}`, () => {
    const terms = (bytes: Buffer) => ({ origin: 'http://ferry.invalid', expiresAt: Date.now() + 60_000, maxBytes: bytes.length, contentType: 'application/octet-stream', sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });

    it('stores the bytes PUT to an upload URL, tells their size and sha256, serves them at a download URL, and deletes them', async () => {
      const { blobs, transport, close } = await make();
      try {
        const id = `asset_${randomBytes(8).toString('hex')}`;
        expect(await blobs.stat(id)).toBeNull();
        const bytes = randomBytes(300_000);
        await transport.put(await blobs.uploadUrl(id, terms(bytes)), bytes, 'application/octet-stream');
        expect(await blobs.stat(id)).toEqual({ sizeBytes: bytes.length, sha256: terms(bytes).sha256 });
        const back = await transport.get(await blobs.downloadUrl(id, { origin: 'http://ferry.invalid', expiresAt: Date.now() + 60_000 }));
        expect(back.equals(bytes)).toBe(true);
        await blobs.delete(id);
        expect(await blobs.stat(id)).toBeNull();
        await blobs.delete(id);
      } finally {
        await close();
      }
    });

    it('keeps each asset’s bytes apart, and an empty upload as empty', async () => {
      const { blobs, transport, close } = await make();
      try {
        const [a, b] = [`asset_${randomBytes(8).toString('hex')}`, `asset_${randomBytes(8).toString('hex')}`];
        const [x, empty] = [randomBytes(1000), Buffer.alloc(0)];
        await transport.put(await blobs.uploadUrl(a, terms(x)), x, 'text/plain');
        await transport.put(await blobs.uploadUrl(b, terms(empty)), empty, 'text/plain');
        expect((await blobs.stat(a))?.sizeBytes).toBe(1000);
        expect(await blobs.stat(b)).toEqual({ sizeBytes: 0, sha256: terms(empty).sha256 });
      } finally {
        await close();
      }
    });
  });
}
