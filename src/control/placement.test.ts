import { describe, expect, it } from 'vitest';
import { parseGpuSpec } from '../core/gpu-spec.js';
import type { NodeRecord } from '../core/types.js';
import { type NodeAllocation, placeInstance } from './placement.js';

const node = (id: string, spec: string): NodeRecord => ({ id, name: id, gpus: parseGpuSpec(spec), state: 'READY', lastSeenAt: 0, createdAt: 0 });

function fill(resources: Parameters<typeof placeInstance>[0], nodes: NodeRecord[], n: number): (NodeAllocation | { reason: string })[] {
  const allocations: NodeAllocation[] = [];
  const out: (NodeAllocation | { reason: string })[] = [];
  for (let i = 0; i < n; i++) {
    const p = placeInstance(resources, nodes, allocations);
    out.push(p);
    if ('nodeId' in p) allocations.push(p);
  }
  return out;
}

describe('placeInstance', () => {
  it('packs four 20 GiB shares on one 80 GiB GPU and refuses a fifth', () => {
    const placed = fill({ gpus: 1, gpuType: 'A100', gpuMemoryMiB: 20480 }, [node('n1', '1xA100:81920')], 5);
    expect(placed.slice(0, 4).every((p) => 'nodeId' in p && p.gpus[0]!.index === 0)).toBe(true);
    expect(placed[4]).toMatchObject({ reason: expect.stringContaining('free') });
  });
  it('gives whole devices exclusively and never shares a wholly held one', () => {
    const nodes = [node('n1', '2xH200:143771')];
    const placed = fill({ gpus: 1, gpuType: 'H200' }, nodes, 3);
    expect(placed.slice(0, 2).map((p) => ('nodeId' in p ? p.gpus[0]!.index : -1))).toEqual([0, 1]);
    expect('reason' in placed[2]!).toBe(true);
    const allocations = placed.slice(0, 1) as NodeAllocation[];
    expect(placeInstance({ gpus: 1, gpuMemoryMiB: 1000 }, nodes, allocations)).toMatchObject({ gpus: [{ index: 1, memoryMiB: 1000 }] });
  });
  it('matches the GPU type and says why nothing fits', () => {
    const nodes = [node('n1', '1xL4:23034'), node('n2', '2xH200:143771')];
    expect(placeInstance({ gpus: 2, gpuType: 'h200' }, nodes, [])).toMatchObject({ nodeId: 'n2' });
    expect(placeInstance({ gpus: 1, gpuType: 'B200' }, nodes, [])).toEqual({ reason: 'no ready node has a B200 GPU' });
    expect(placeInstance({ gpus: 0 }, [], [])).toEqual({ reason: 'no node is ready' });
  });
});
