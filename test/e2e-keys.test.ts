import { afterAll, describe, expect, it } from 'vitest';
import { FerryClient } from '../src/sdk/client.js';
import { FerryServer } from './helpers/ferry-server.js';
import { POSTGRES_URL, dropSchema, freshSchema, postgresAvailable } from './helpers/postgres.js';

const available = await postgresAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: { code?: string }) => err.code ?? String(err));

describe('API keys and the audit log', () => {
  const server = new FerryServer(['--gpus', 'none']);
  afterAll(() => server.dispose());

  it('lists keys by prefix with their last use, refuses a revoked or expired one with its own code, keeps another tenant out, and logs each change', async () => {
    await server.start();
    const admin = server.client;
    const ci = await admin.createKey('ci', 'read');
    expect(ci).toMatchObject({ name: 'ci', scope: 'read', prefix: ci.key.slice(0, 8), expiresAt: null, revokedAt: null });
    const asCi = new FerryClient(server.url, ci.key);
    await asCi.listFunctions();
    const listed = await admin.listKeys();
    expect(listed.map((k) => k.name)).toEqual(['admin', 'ci']);
    expect(listed.find((k) => k.id === ci.id)?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(ci.key);

    const other = await admin.createTenant('other');
    expect(await codeOf(new FerryClient(server.url, other.adminKey.key).revokeKey(ci.id))).toBe('NOT_FOUND');
    await admin.revokeKey(ci.id);
    expect(await codeOf(asCi.listFunctions())).toBe('KEY_REVOKED');
    expect((await admin.listKeys()).find((k) => k.id === ci.id)?.revokedAt).not.toBeNull();

    // Each change is in the audit log with its key, route, ids and source; reads are not.
    const log = (await admin.audit({ limit: 10 })).items;
    expect(log.map((e) => e.action)).toEqual(['DELETE /v1/keys/:keyId', 'POST /v1/tenants', 'POST /v1/keys']);
    expect(log[0]).toMatchObject({ keyId: listed[0]!.id, resource: { keyId: ci.id }, source: '127.0.0.1', status: 204 });
    expect((await admin.audit({ action: 'POST /v1/keys' })).items).toHaveLength(1);
    expect((await new FerryClient(server.url, other.adminKey.key).audit()).items).toEqual([]);

    const brief = await admin.createKey('brief', 'read', { ttlSeconds: 1 });
    const asBrief = new FerryClient(server.url, brief.key);
    await asBrief.listFunctions();
    await sleep(1_100);
    expect(await codeOf(asBrief.listFunctions())).toBe('KEY_EXPIRED');
  });
});

describe.skipIf(!available)('a key revoked on one PostgreSQL replica is refused by the other within a second', () => {
  const schema = freshSchema('ferry_keys');
  const replicas = [0, 1].map(() => new FerryServer(['--no-agent', '--store', POSTGRES_URL], { FERRY_PG_SCHEMA: schema }));
  afterAll(async () => {
    for (const r of replicas) await r.dispose();
    await dropSchema(schema);
  });

  it('answers KEY_REVOKED on the other replica within a second of the revoke', async () => {
    const [r0, r1] = replicas as [FerryServer, FerryServer];
    await r0.start();
    await r1.start();
    r1.adminKey = r0.adminKey;
    const key = await r0.client.createKey('ci', 'read');
    const onR1 = new FerryClient(r1.url, key.key);
    await onR1.listFunctions();
    await r0.client.revokeKey(key.id);
    const revokedAt = Date.now();
    while ((await codeOf(onR1.listFunctions())) !== 'KEY_REVOKED') {
      expect(Date.now() - revokedAt).toBeLessThan(1_100);
      await sleep(20);
    }
  });
});
