import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssetFetch, AssetCache, AssetUnavailable } from './asset-cache.js';

/** Real HTTP: a server that hands out blobs by path and counts the requests. */
describe('the node asset cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-asset-cache-'));
  const blobs = new Map<string, Buffer>();
  const requests: string[] = [];
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url!);
      const body = blobs.get(req.url!);
      setTimeout(() => (body ? res.end(body) : res.writeHead(404).end()), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const asset = (id: string, size: number) => {
    const bytes = randomBytes(size);
    blobs.set(`/${id}`, bytes);
    return { id, sizeBytes: size, sha256: createHash('sha256').update(bytes).digest('hex'), url: `/${id}`, bytes };
  };
  const signal = new AbortController().signal;

  it('downloads an asset once for tasks asking at the same time, links it read-only, and keeps within its bound, oldest first', async () => {
    const seen: AssetFetch[] = [];
    const cache = new AssetCache(join(dir, 'c1'), 250, base, (r) => seen.push(r));
    await cache.start();
    const a = asset('asset_a', 100);
    await Promise.all([1, 2, 3].map((n) => cache.provide([a], join(dir, `t${n}`), signal)));
    expect(requests.filter((u) => u === '/asset_a')).toHaveLength(1);
    expect(readFileSync(join(dir, 't3', 'asset_a')).equals(a.bytes)).toBe(true);
    expect(statSync(join(dir, 't3', 'asset_a')).mode & 0o777).toBe(0o444);

    const b = asset('asset_b', 100);
    const c = asset('asset_c', 100);
    await cache.provide([b], join(dir, 't4'), signal);
    await cache.provide([c], join(dir, 't5'), signal);
    // 300 bytes over a 250-byte bound: a, the least recently used, went.
    expect(readdirSync(join(dir, 'c1')).sort()).toEqual([`asset_b.${b.sha256}`, `asset_c.${c.sha256}`]);
    expect(seen.filter((r) => r === 'download')).toHaveLength(3);
  });

  it('refuses bytes that do not match, keeping nothing, and fetches again a file a task changed', async () => {
    const cache = new AssetCache(join(dir, 'c2'), 10_000, base);
    await cache.start();
    const bad = { ...asset('asset_bad', 50), sha256: '0'.repeat(64) };
    await expect(cache.provide([bad], join(dir, 't6'), signal)).rejects.toBeInstanceOf(AssetUnavailable);
    await expect(cache.provide([{ ...bad, url: '/missing' }], join(dir, 't6'), signal)).rejects.toThrow(/HTTP 404/);
    expect(readdirSync(join(dir, 'c2'))).toEqual([]);

    const d = asset('asset_d', 64);
    await cache.provide([d], join(dir, 't7'), signal);
    chmodSync(join(dir, 't7', 'asset_d'), 0o644);
    writeFileSync(join(dir, 't7', 'asset_d'), 'scribbled over');
    await cache.provide([d], join(dir, 't8'), signal);
    expect(readFileSync(join(dir, 't8', 'asset_d')).equals(d.bytes)).toBe(true);
    expect(requests.filter((u) => u === '/asset_d')).toHaveLength(2);
  });
});
