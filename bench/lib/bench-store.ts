import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The store the benchmarked server runs on: the embedded SQLite by default, PostgreSQL when
 * BENCH_STORE is a postgres:// URL. Each server then gets a fresh schema, dropped when it stops.
 */
export const BENCH_STORE_URL = process.env.BENCH_STORE ?? '';

export interface BenchStore {
  args: string[];
  env: Record<string, string>;
  /** Bytes the store holds in the database (tables, indexes, TOAST); null for SQLite, measured on disk. */
  databaseBytes: () => Promise<number | null>;
  drop: () => Promise<void>;
}

export async function benchStore(): Promise<BenchStore> {
  if (BENCH_STORE_URL === '') return { args: [], env: {}, databaseBytes: async () => null, drop: async () => {} };
  if (!/^postgres(ql)?:\/\//.test(BENCH_STORE_URL)) throw new Error(`BENCH_STORE: "${BENCH_STORE_URL}" is not a postgres:// URL`);
  const schema = `ferry_bench_${randomBytes(5).toString('hex')}`;
  const query = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: BENCH_STORE_URL });
    await client.connect();
    try {
      return (await client.query<T>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    args: ['--store', BENCH_STORE_URL],
    env: { FERRY_PG_SCHEMA: schema },
    databaseBytes: async () => {
      const [row] = await query<{ bytes: string | null }>(
        'SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = $2',
        [schema, 'r'],
      );
      return Number(row?.bytes ?? 0);
    },
    drop: async () => void (await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
  };
}
