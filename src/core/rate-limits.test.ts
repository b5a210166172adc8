import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limits.js';

describe('TokenBucket', () => {
  it('lets a second’s worth through at once, then refills at its rate, saying when the next token comes', () => {
    const b = new TokenBucket(4, 0);
    for (let i = 0; i < 4; i++) expect(b.take(1, 0).ok).toBe(true);
    expect(b.take(1, 0)).toEqual({ ok: false, remaining: 0, retryAfterMs: 250 });
    expect(b.take(1, 250)).toMatchObject({ ok: true, remaining: 0 });
    expect(b.take(2, 10_000)).toMatchObject({ ok: true, remaining: 2 });
  });

  it('refuses more than a burst for good, and takes nothing for a refusal', () => {
    const b = new TokenBucket(2, 0);
    expect(b.take(3, 0)).toMatchObject({ ok: false, retryAfterMs: Number.POSITIVE_INFINITY });
    expect(b.take(2, 0).ok).toBe(true);
  });
});
