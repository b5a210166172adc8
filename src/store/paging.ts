import type { Page } from '../core/types.js';
import { encodeCursor } from './cursor.js';

type Row = Record<string, unknown>;

export interface PageRequest {
  limit: number;
  cursor?: string | null;
}

/**
 * A page of rows read with one more than `limit`: that extra row only tells that another page
 * follows, whose cursor is the key (`keyColumn`) of the page's last row.
 */
export function pageOf<T>(rows: Row[], limit: number, toItem: (row: Row) => T, keyColumn: 'id' | 'seq'): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  const key = keyColumn === 'seq' ? Number(last?.seq) : (last?.id as string);
  return { items: kept.map(toItem), nextCursor: rows.length > limit ? encodeCursor(key) : null };
}
