import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { LOAD_SAMPLE_RETENTION_MS, LoadSampler } from './load-sampler.js';

it('samples a changing load at most every period, an unchanged one once a minute, and prunes after a day', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-load-'));
  const store = new SqliteStore({ path: join(dir, 'ferry.db') });
  try {
    const sampler = new LoadSampler(store, 1000);
    const at = (t: number, queued: number) => ({ versionId: 'ver_1', at: t, queued, running: 0, instances: 1, desired: 1 });
    for (const [t, q] of [[0, 5], [500, 6], [1000, 7], [1500, 7], [30_000, 7], [61_000, 7], [61_100, 3]] as const) await sampler.observe(at(t, q));
    expect((await store.listLoadSamples('ver_1', 0, 100)).map((s) => [s.at, s.queued])).toEqual([[0, 5], [1000, 7], [61_000, 7]]);
    await sampler.prune(LOAD_SAMPLE_RETENTION_MS + 2000);
    expect((await store.listLoadSamples('ver_1', 0, 100)).map((s) => s.at)).toEqual([61_000]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
