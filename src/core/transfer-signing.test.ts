import { describe, expect, it } from 'vitest';
import { checkTransfer, signTransfer } from './transfer-signing.js';

const key = Buffer.from('k'.repeat(32));
const terms = { method: 'PUT' as const, assetId: 'asset_1', expiresAt: 2_000, maxBytes: 10 };

describe('pre-signed transfer terms', () => {
  it('hold for the terms they were signed for, until they expire', () => {
    const sig = signTransfer(key, terms);
    expect(checkTransfer(key, terms, sig, 1_999)).toBeNull();
    expect(checkTransfer(key, terms, sig, 2_001)).toMatch(/expired/);
  });

  it('break when any term, the key or the signature changes', () => {
    const sig = signTransfer(key, terms);
    for (const changed of [{ method: 'GET' as const }, { assetId: 'asset_2' }, { expiresAt: 9_999 }, { maxBytes: 11 }]) {
      expect(checkTransfer(key, { ...terms, ...changed }, sig, 0)).toMatch(/signature does not match/);
    }
    expect(checkTransfer(Buffer.from('x'.repeat(32)), terms, sig, 0)).toMatch(/signature/);
    expect(checkTransfer(key, terms, `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, 0)).toMatch(/signature/);
    expect(checkTransfer(key, terms, '', 0)).toMatch(/signature/);
  });
});
