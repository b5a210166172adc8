import pg from 'pg';
import type { Clock } from '../../core/clock.js';
import { invalid } from '../../core/errors.js';
import { toStoreError } from './store-errors.js';

export type Row = Record<string, unknown>;

export interface PoolOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Every table goes in this schema (created if missing), so installations or tests can share a database. */
  schema?: string;
  /** Connections the store keeps open at most (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, new or from a busy pool, before STORE_UNAVAILABLE (default 10 s). */
  connectionTimeoutMs?: number;
  /** Shown in pg_stat_activity (default "ferry"), to tell the sessions of replicas apart. */
  applicationName?: string;
}

/**
 * BIGINT (int8, oid 20) as a JS number for this pool only: every time is epoch milliseconds and
 * every seq stays far below 2^53, while the global parser (strings) stays as other users of `pg`
 * in the process expect.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Schema names are interpolated into DDL and the search_path, so only plain identifiers pass. */
export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw invalid(`schema: "${schema}" is not a plain lower-case identifier`);
}

/**
 * The store's pool. Its `error` handler matters: a pooled client that sits idle when the server
 * restarts or drops it emits an error, and an EventEmitter with no listener would crash the
 * process. The pool has already discarded that client; the next query opens a fresh connection
 * (or reports STORE_UNAVAILABLE while the server is down), so there is nothing else to do.
 */
export function createPool(options: PoolOptions): pg.Pool {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'ferry',
    // TCP keepalive after 10 s idle, so a connection whose peer vanished without a word (a cut
    // network, a crashed host) is eventually found dead instead of hanging a query for hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  pool.on('error', () => {});
  return pool;
}

/** SQLSTATE 40P01: PostgreSQL aborted one of two transactions that waited on each other. */
const DEADLOCK = '40P01';

/** Statements on one connection or on the pool, driver errors turned into the port's errors. */
export class Sql {
  constructor(
    private readonly db: pg.Pool | pg.PoolClient,
    /**
     * Only on the pool: a statement run alone is its own transaction, so running it again after
     * PostgreSQL aborted it to break a deadlock is safe. The store's lock order is meant to leave
     * none (see migrations.ts); this keeps one that slips through from reaching the caller.
     */
    private readonly retryDeadlocks = false,
  ) {}

  async rows<R = Row>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.result(text, values)).rows as R[];
  }

  async one<R = Row>(text: string, values: unknown[] = []): Promise<R | null> {
    return (await this.rows<R>(text, values))[0] ?? null;
  }

  /** The number of rows a statement changed. */
  async run(text: string, values: unknown[] = []): Promise<number> {
    return (await this.result(text, values)).rowCount ?? 0;
  }

  private async result(text: string, values: unknown[]): Promise<pg.QueryResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.query(text, values);
      } catch (err) {
        if (this.retryDeadlocks && attempt < 3 && (err as { code?: unknown }).code === DEADLOCK) continue;
        throw toStoreError(err);
      }
    }
  }
}

/**
 * Runs `work` in one transaction on a pooled client: BEGIN, COMMIT, ROLLBACK on any error, and
 * the client always released (destroyed when it may be broken, so the pool never hands out a
 * connection stuck in a failed transaction). A transaction PostgreSQL aborted to break a deadlock
 * runs again: every `work` here reads what it decides on inside the transaction.
 */
export async function transaction<T>(pool: pg.Pool, work: (sql: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transactionOnce(pool, work);
    } catch (err) {
      if (attempt >= 3 || (err as { code?: unknown }).code !== DEADLOCK) throw err;
    }
  }
}

async function transactionOnce<T>(pool: pg.Pool, work: (sql: Sql) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toStoreError(err);
  }
  // A checked-out client has no listener of its own; one that loses its socket mid-transaction
  // must not crash the process (the failing query reports the error).
  const onError = (): void => {};
  client.on('error', onError);
  const sql = new Sql(client);
  let broken: Error | undefined;
  try {
    await sql.run('BEGIN');
    const result = await work(sql);
    await sql.run('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw toStoreError(err);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** PostgreSQL TEXT cannot hold NUL, which a process may well print: it is kept as U+FFFD (SQLite keeps it as is). */
export const storableText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

/** What the adapter's slices share: the pool, its statements outside a transaction, and the clock that judges leases. */
export class PgConnection {
  readonly sql: Sql;

  constructor(
    readonly pool: pg.Pool,
    readonly clock: Clock,
  ) {
    this.sql = new Sql(pool, true);
  }

  tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return transaction(this.pool, work);
  }
}
