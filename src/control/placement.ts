import type { GpuAssignment, NodeRecord, VersionSpec } from '../core/types.js';

/** GPUs already given to live instances on a node. */
export interface NodeAllocation {
  nodeId: string;
  gpus: GpuAssignment[];
}

export type Placement = { nodeId: string; gpus: GpuAssignment[] } | { reason: string };

/**
 * Chooses a node and devices for one instance, pure. A request with `gpuMemoryMiB` and at most
 * one GPU takes a share of a device whose declared memory still fits it (fractional GPU), never
 * one held whole; any other GPU request takes whole devices nobody holds. Among fitting nodes the
 * one with the fewest free devices of the type wins, which packs work and keeps whole devices
 * free for whole-device requests.
 */
export function placeInstance(resources: VersionSpec['resources'], nodes: NodeRecord[], allocations: NodeAllocation[]): Placement {
  const ready = nodes.filter((n) => n.state === 'READY');
  if (ready.length === 0) return { reason: 'no node is ready' };
  const fractional = resources.gpuMemoryMiB !== undefined && resources.gpus <= 1;
  const count = fractional ? 1 : resources.gpus;
  if (count === 0) {
    const load = (id: string): number => allocations.filter((a) => a.nodeId === id).length;
    const node = [...ready].sort((a, b) => load(a.id) - load(b.id))[0]!;
    return { nodeId: node.id, gpus: [] };
  }
  const typeOk = (t: string): boolean => resources.gpuType === undefined || t.toLowerCase() === resources.gpuType.toLowerCase();
  const candidates: { nodeId: string; gpus: GpuAssignment[]; free: number }[] = [];
  let total = 0;
  for (const node of ready) {
    const held = allocations.filter((a) => a.nodeId === node.id).flatMap((a) => a.gpus);
    const devices = node.gpus.filter((g) => typeOk(g.type));
    total += devices.length;
    const whole = new Set(held.filter((h) => h.memoryMiB === undefined).map((h) => h.index));
    const shared = new Map<number, number>();
    for (const h of held) if (h.memoryMiB !== undefined) shared.set(h.index, (shared.get(h.index) ?? 0) + h.memoryMiB);
    const untouched = devices.filter((g) => !whole.has(g.index) && !shared.has(g.index));
    if (fractional) {
      const need = resources.gpuMemoryMiB!;
      // Prefer the device already shared with the least room left that still fits: packing.
      const fits = devices
        .filter((g) => !whole.has(g.index) && g.memoryMiB - (shared.get(g.index) ?? 0) >= need)
        .sort((a, b) => a.memoryMiB - (shared.get(a.index) ?? 0) - (b.memoryMiB - (shared.get(b.index) ?? 0)));
      if (fits[0]) candidates.push({ nodeId: node.id, gpus: [{ index: fits[0].index, type: fits[0].type, memoryMiB: need }], free: untouched.length });
    } else {
      const fits = untouched.filter((g) => resources.gpuMemoryMiB === undefined || g.memoryMiB >= resources.gpuMemoryMiB);
      if (fits.length >= count) candidates.push({ nodeId: node.id, gpus: fits.slice(0, count).map((g) => ({ index: g.index, type: g.type })), free: untouched.length });
    }
  }
  const best = candidates.sort((a, b) => a.free - b.free)[0];
  if (best) return { nodeId: best.nodeId, gpus: best.gpus };
  const what = `${fractional ? `${resources.gpuMemoryMiB} MiB on one` : count} ${resources.gpuType ?? 'any-type'} GPU${count > 1 ? 's' : ''}`;
  return { reason: total === 0 ? `no ready node has a ${resources.gpuType ?? ''} GPU`.replace('a  GPU', 'a GPU') : `no ready node has ${what} free (${total} such GPU(s) in the fleet)` };
}
