import { createHash, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id. */
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

function random16(): Buffer {
  if (used + 16 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}

/**
 * Time-ordered, URL-safe ids (`task_01jd...`): 10 characters of milliseconds then 16 random
 * characters, Crockford base32 in lower case. Sorting ids sorts by creation time, which keeps
 * index inserts local; written here because it is ten lines and sits on the submit path.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = random16();
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b & 31];
  return `${prefix}_${time}${rand}`;
}

export const ID_PREFIX = {
  tenant: 'ten',
  apiKey: 'key',
  function: 'fn',
  version: 'ver',
  instance: 'ins',
  node: 'node',
  task: 'task',
  asset: 'asset',
  trigger: 'trg',
  workflow: 'wf',
  workflowVersion: 'wfv',
  execution: 'exe',
} as const;

/** The hash of what a request asked, its parts in order: a reused idempotency key with other content is told apart by it. */
export function hashRequest(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** A key as it is, or `sha256:` and its hash when it is longer than `max` (idempotency keys are at most 256). */
export function keyWithin(key: string, max: number): string {
  return key.length <= max ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
