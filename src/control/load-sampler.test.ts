import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { LOAD_SAMPLE_RETENTION_MS, LoadSampler } from './load-sampler.js';

it('samples a changed fleet at once, a moving queue at most every period, an unchanged load once a minute, and prunes after a day', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-load-'));
  const store = new SqliteStore({ path: join(dir, 'ferry.db') });
  try {
    const sampler = new LoadSampler(store, 1000);
    const at = (t: number, queued: number, instances = 1) => ({ versionId: 'ver_1', at: t, queued, running: 0, instances, desired: instances });
    const seen: [number, number, number][] = [[0, 5, 1], [500, 6, 1], [600, 6, 2], [1000, 7, 2], [1700, 8, 2], [30_000, 8, 2], [62_000, 8, 2], [62_100, 3, 2]];
    for (const [t, q, n] of seen) await sampler.observe(at(t, q, n));
    expect((await store.deployments.listLoadSamples('ver_1', 0, 100)).map((s) => [s.at, s.queued, s.instances])).toEqual([[0, 5, 1], [600, 6, 2], [1700, 8, 2], [62_000, 8, 2]]);
    await sampler.prune(LOAD_SAMPLE_RETENTION_MS + 1000);
    expect((await store.deployments.listLoadSamples('ver_1', 0, 100)).map((s) => s.at)).toEqual([1700, 62_000]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
