import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { SqliteConnection } from './connection.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-sqlite-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('commits the writes asked for in one turn together, rolls back one that throws alone, and settles each only once committed', async () => {
  const path = join(dir, 'group.db');
  const conn = new SqliteConnection(path, 'normal', systemClock);
  const other = new Database(path, { readonly: true });
  try {
    const insert = (id: string): (() => string) => () => {
      conn.sql('INSERT INTO tenants (id, name, system, created_at) VALUES (?, ?, 0, 0)').run(id, id);
      return id;
    };
    const seen: string[][] = [];
    const names = (): string[] => (other.prepare('SELECT id FROM tenants ORDER BY id').pluck().all() as string[]);
    const writes = [
      conn.immediate(insert('ten_a')).then((v) => (seen.push(names()), v)),
      conn.immediate(() => {
        insert('ten_b')();
        throw new Error('refused');
      }),
      conn.immediate(insert('ten_c')).then((v) => (seen.push(names()), v)),
    ];
    // Nothing is written before the turn's commit.
    expect(names()).toEqual([]);
    const results = await Promise.allSettled(writes);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'refused' });
    // Each resolved with the commit already visible to another connection, the refused one's row rolled back.
    expect(seen).toEqual([['ten_a', 'ten_c'], ['ten_a', 'ten_c']]);
    // A write alone in its turn that throws rejects, and the next turn's write still commits.
    await expect(conn.immediate(insert('ten_a'))).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(await conn.immediate(insert('ten_d'))).toBe('ten_d');
    expect(names()).toEqual(['ten_a', 'ten_c', 'ten_d']);
  } finally {
    other.close();
    conn.close();
  }
});
