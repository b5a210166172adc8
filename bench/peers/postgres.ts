import pg from 'pg';

/** The PostgreSQL the PostgreSQL-backed peers use: FERRY_TEST_POSTGRES_URL, or the local default. */
export function postgresUrl(): string {
  return process.env.FERRY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Names we interpolate into SQL: a plain lower-case identifier, so quoting can never matter. */
function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
}

/** Drops one schema (ours) with everything in it, on a connection of its own. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  assertSchemaName(schema);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
