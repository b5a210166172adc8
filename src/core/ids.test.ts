import { expect, it } from 'vitest';
import { keyWithin, newId } from './ids.js';

it('makes distinct, URL-safe ids that sort by their time, across refills of the random pool', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => newId('task', 1_700_000_000_000 + Math.floor(i / 100)));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.every((id) => /^task_[0-9a-hjkmnp-tv-z]{26}$/.test(id))).toBe(true);
  expect([...ids].sort((a, b) => a.slice(0, 15).localeCompare(b.slice(0, 15)))).toEqual(ids);

});

it('keeps a short key as it is and hashes a long one into a bounded one', () => {
  expect(keyWithin('tick-1', 10)).toBe('tick-1');
  const long = keyWithin('m'.repeat(500), 10);
  expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(keyWithin('m'.repeat(500), 10)).toBe(long);
});
