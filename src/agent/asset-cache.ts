import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AssetTransfer } from '../core/assets.js';

/** An input asset the node could not get (unreachable, refused, or bytes that do not match). */
export class AssetUnavailable extends Error {
  constructor(
    readonly assetId: string,
    why: string,
  ) {
    super(why);
  }
}

interface Entry {
  path: string;
  sizeBytes: number;
  /** As the cache left the file: a file changed since (a task wrote into its link) is fetched again. */
  mtimeMs: number;
  usedAt: number;
}

/** What a fetch came to: from the network, or from the cache. */
export type AssetFetch = 'download' | 'hit';

/**
 * The node's input assets, kept by id and checksum in one directory, at most `maxBytes` of them
 * (the least recently used go first; the newest stays even alone over the bound). Each asset is
 * downloaded once however many tasks ask for it at once, checked against its size and SHA-256
 * before it is kept, and handed to a task as a read-only hard link in its input-assets directory,
 * so a task costs no copy and the cache a file only while it lists it.
 */
export class AssetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly fetching = new Map<string, Promise<Entry>>();
  private total = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    /** The control plane the relative URLs of Ferry-served blobs are on. */
    private readonly baseUrl: string,
    private readonly onFetch: (result: AssetFetch, sizeBytes: number) => void = () => {},
  ) {}

  /** Takes in what an earlier agent left (whole files only); removes its part files. */
  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith('.part')) {
        await rm(path, { force: true });
        continue;
      }
      const s = await stat(path).catch(() => null);
      if (!s) continue;
      this.entries.set(name, { path, sizeBytes: s.size, mtimeMs: s.mtimeMs, usedAt: s.mtimeMs });
      this.total += s.size;
    }
    await this.evict();
  }

  /** Puts each asset into `into` as a file named by its id, fetching what the cache lacks. Throws AssetUnavailable. */
  async provide(assets: AssetTransfer[], into: string, signal: AbortSignal): Promise<void> {
    await mkdir(into, { recursive: true });
    for (const asset of assets) {
      const entry = await this.entry(asset, signal);
      await link(entry.path, join(into, asset.id));
    }
  }

  private async entry(asset: AssetTransfer, signal: AbortSignal): Promise<Entry> {
    const key = `${asset.id}.${asset.sha256}`;
    const kept = this.entries.get(key);
    if (kept) {
      const s = await stat(kept.path).catch(() => null);
      if (s && s.size === kept.sizeBytes && s.mtimeMs === kept.mtimeMs) {
        kept.usedAt = Date.now();
        this.onFetch('hit', kept.sizeBytes);
        return kept;
      }
      this.forget(key);
    }
    let pending = this.fetching.get(key);
    if (!pending) {
      pending = this.download(asset, join(this.dir, key), signal).finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    return pending;
  }

  private async download(asset: AssetTransfer, path: string, signal: AbortSignal): Promise<Entry> {
    const part = `${path}.${randomBytes(4).toString('hex')}.part`;
    try {
      const res = await fetch(new URL(asset.url, this.baseUrl), { signal }).catch((err: Error) => {
        throw new AssetUnavailable(asset.id, `the blob store is not reachable: ${err.message}`);
      });
      if (!res.ok || !res.body) throw new AssetUnavailable(asset.id, `the blob store answered HTTP ${res.status}`);
      const hash = createHash('sha256');
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), measure, createWriteStream(part), { signal }).catch((err: Error) => {
        throw new AssetUnavailable(asset.id, `the download broke off: ${err.message}`);
      });
      const sha256 = hash.digest('hex');
      if (size !== asset.sizeBytes || sha256 !== asset.sha256) throw new AssetUnavailable(asset.id, `${size} bytes hashing to ${sha256} arrived where ${asset.sizeBytes} hashing to ${asset.sha256} were expected`);
      // Read-only: the task gets a link to this very file.
      await chmod(part, 0o444);
      await rename(part, path);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    const s = await stat(path);
    const entry = { path, sizeBytes: s.size, mtimeMs: s.mtimeMs, usedAt: Date.now() };
    this.entries.set(`${asset.id}.${asset.sha256}`, entry);
    this.total += s.size;
    this.onFetch('download', s.size);
    await this.evict();
    return entry;
  }

  /** Drops the least recently used entries while the cache is over its bound, keeping the newest. */
  private async evict(): Promise<void> {
    const oldestFirst = [...this.entries].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key, entry] of oldestFirst.slice(0, -1)) {
      if (this.total <= this.maxBytes) return;
      this.forget(key);
      await rm(entry.path, { force: true });
    }
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.sizeBytes;
  }
}
