import { describe, expect, it } from 'vitest';
import { uploadMismatch } from './assets.js';

describe('an upload against what was declared', () => {
  it('names the size or checksum that differs', () => {
    expect(uploadMismatch({ sizeBytes: null, sha256: null }, { sizeBytes: 3, sha256: 'ab' })).toBeNull();
    expect(uploadMismatch({ sizeBytes: 4, sha256: null }, { sizeBytes: 3, sha256: 'ab' })).toMatch(/3 bytes where 4/);
    expect(uploadMismatch({ sizeBytes: 3, sha256: 'cd' }, { sizeBytes: 3, sha256: 'ab' })).toMatch(/sha256 is ab, not the declared cd/);
  });
});
