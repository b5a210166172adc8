import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { instrumentStore } from './instrumented-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

it('times every call of the store it wraps, failed ones too, and leaves the answers as they were', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-instrumented-'));
  const calls: [string, number, boolean][] = [];
  const store = instrumentStore(new SqliteStore({ path: join(dir, 'ferry.db') }), (op, s, failed) => calls.push([op, s, failed]));
  try {
    expect(store.kind).toBe('sqlite');
    expect(await store.tenants.countTenants()).toBe(0);
    await store.tenants.createTenant({ id: 'ten_1', name: 'one', system: false, quotas: {}, createdAt: 0 }, { id: 'key_1', tenantId: 'ten_1', name: 'admin', scope: 'admin', hash: 'h', createdAt: 0, prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null });
    await expect(
      store.tenants.createTenant({ id: 'ten_2', name: 'one', system: false, quotas: {}, createdAt: 0 }, { id: 'key_2', tenantId: 'ten_2', name: 'admin', scope: 'admin', hash: 'h2', createdAt: 0, prefix: null, expiresAt: null, revokedAt: null, lastUsedAt: null }),
    ).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
    await new Promise((r) => setImmediate(r));
    expect(calls.map(([op, , failed]) => [op, failed])).toEqual([
      ['countTenants', false],
      ['createTenant', false],
      ['createTenant', true],
    ]);
    expect(calls.every(([, s]) => s >= 0 && s < 5)).toBe(true);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
