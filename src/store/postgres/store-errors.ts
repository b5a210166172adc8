import { FerryError } from '../../core/errors.js';

/** Socket-level codes Node reports when the server cannot be reached or the connection breaks. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** admin_shutdown, crash_shutdown, cannot_connect_now: the server is stopping, restarting or still starting. */
const SERVER_GOING_CODES = new Set(['57P01', '57P02', '57P03']);
/** What node-pg says when a socket closes under it or a connect times out; these errors carry no code. */
const LOST_CONNECTION = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end/i;

/**
 * True when an error means the database is out of reach rather than that a statement was wrong:
 * the caller may try again later, and the API answers 503 instead of 500.
 */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GOING_CODES.has(code) || code.startsWith('08'))) return true;
  // Node's happy-eyeballs connect (localhost on ::1 and 127.0.0.1) fails with an AggregateError of both attempts.
  if (err instanceof AggregateError && err.errors.some(isUnreachable)) return true;
  return LOST_CONNECTION.test(err.message);
}

/** The error the port reports for an error of the driver: STORE_UNAVAILABLE when unreachable, else the error itself. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof FerryError || !isUnreachable(err)) return err;
  const e = err as Error & { code?: string };
  const detail = e.message || (err instanceof AggregateError ? err.errors.map((x: Error) => x.message).join('; ') : '') || e.code || 'no detail';
  return new FerryError('STORE_UNAVAILABLE', `the PostgreSQL store is unreachable: ${detail}`, { cause: err });
}

/** True for a unique violation (23505) of the named constraint. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === constraint;
}
