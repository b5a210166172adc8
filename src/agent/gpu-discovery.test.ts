import { describe, expect, it } from 'vitest';
import { discoverGpus, gpuTypeOf, parseNvidiaSmi } from './gpu-discovery.js';

describe('gpu discovery', () => {
  it('reads nvidia-smi CSV into typed devices', () => {
    expect(parseNvidiaSmi('0, NVIDIA H200, 143771, GPU-abc\n1, NVIDIA A100-SXM4-80GB, 81920, GPU-def\n')).toEqual([
      { index: 0, type: 'H200', memoryMiB: 143771, uuid: 'GPU-abc' },
      { index: 1, type: 'A100', memoryMiB: 81920, uuid: 'GPU-def' },
    ]);
    expect(gpuTypeOf('NVIDIA GeForce RTX 4090')).toBe('RTX4090');
    expect(gpuTypeOf('Tesla T4')).toBe('T4');
  });
  it('finds no GPUs where nvidia-smi is missing', async () => {
    expect(await discoverGpus('/nonexistent/nvidia-smi')).toEqual([]);
  });
});
