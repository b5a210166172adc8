import { describe, expect, it } from 'vitest';
import { parseGpuSpec } from './gpu-spec.js';

describe('parseGpuSpec', () => {
  it('expands counts into indexed devices', () => {
    expect(parseGpuSpec('2xH200:143771,1xL4:23034')).toEqual([
      { index: 0, type: 'H200', memoryMiB: 143771 },
      { index: 1, type: 'H200', memoryMiB: 143771 },
      { index: 2, type: 'L4', memoryMiB: 23034 },
    ]);
  });
  it('treats none and empty as no GPUs', () => {
    expect(parseGpuSpec('none')).toEqual([]);
    expect(parseGpuSpec(' ')).toEqual([]);
  });
  it('names the bad entry', () => {
    expect(() => parseGpuSpec('2xH200,banana')).toThrow(/"banana"/);
    expect(() => parseGpuSpec('0xA100')).toThrow(/count/);
  });
});
