import { invalid } from '../core/errors.js';

/** Opaque page cursors: the last key of the page, base64url-encoded so clients do not build them. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends string | number>(cursor: string | null | undefined, type: 'string' | 'number'): T | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor: not a cursor returned by this list');
  }
  if (typeof value !== type) throw invalid('cursor: not a cursor returned by this list');
  return value as T;
}
