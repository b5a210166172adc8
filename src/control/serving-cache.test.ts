import { expect, it } from 'vitest';
import type { FunctionRecord } from '../core/types.js';
import { ServingCache, type ServingFunction } from './serving-cache.js';
import { Wakeups } from './wakeups/wakeups.js';

it('keeps a function’s serving deployments until one starts or stops serving, or for a few seconds, and keeps no failed read', async () => {
  let t = 0;
  const wakeups = new Wakeups();
  const cache = new ServingCache(wakeups, { now: () => t });
  let reads = 0;
  const load = async (): Promise<ServingFunction> => {
    reads++;
    return { fn: { id: 'fn_1' } as FunctionRecord, serving: [], versions: new Map() };
  };
  await cache.get('ten_a', 'echo', load);
  await cache.get('ten_a', 'echo', load);
  expect(reads).toBe(1);
  // Another tenant's function of the same name is its own entry.
  await cache.get('ten_b', 'echo', load);
  expect(reads).toBe(2);
  wakeups.emit({ kind: 'deployment-reset', versionId: 'ver_1' });
  await cache.get('ten_a', 'echo', load);
  expect(reads).toBe(3);
  t += 5_000;
  await cache.get('ten_a', 'echo', load);
  expect(reads).toBe(4);
  await expect(cache.get('ten_a', 'gone', () => Promise.reject(new Error('FUNCTION_NOT_FOUND')))).rejects.toThrow('FUNCTION_NOT_FOUND');
  await cache.get('ten_a', 'gone', load);
  expect(reads).toBe(5);
});
