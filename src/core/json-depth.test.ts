import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from './json-depth.js';

describe('nestsDeeperThan', () => {
  const nested = (n: number): string => `${'['.repeat(n)}1${']'.repeat(n)}`;

  it('counts arrays and objects, and passes over brackets inside strings and escapes', () => {
    expect(nestsDeeperThan(nested(3), 3)).toBe(false);
    expect(nestsDeeperThan(nested(4), 3)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1,2,{"c":3}]}}', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1,2,{"c":3}]}}', 4)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: '[[[[{{{{ \\" [[[[' }), 1)).toBe(false);
  });

  it('reads a document a hundred thousand levels deep without a stack', () => {
    expect(nestsDeeperThan(nested(100_000), 128)).toBe(true);
  });
});
