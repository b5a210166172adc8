import { FerryError } from '../core/errors.js';
import type { ByteRange } from '../blobs/blob-store.js';

/**
 * The one range of a `Range: bytes=…` header over `size` bytes: `a-b`, `a-` or `-n` (the last n).
 * Null for no header, another unit or several ranges (the whole body is then sent, as HTTP
 * allows); RANGE_NOT_SATISFIABLE for a range that starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) throw new FerryError('RANGE_NOT_SATISFIABLE', `bytes ${header.slice(6)} is outside the ${size} bytes stored`, { details: { sizeBytes: size } });
  return { start, end };
}
