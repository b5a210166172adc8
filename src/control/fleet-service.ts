import { LIVE_INSTANCE_STATES } from '../core/states.js';
import type { NodeRecord } from '../core/types.js';
import type { Store } from '../store/store.js';

/** What live instances hold of one device: the whole of it, or shares of its memory. */
export interface DeviceAllocation {
  whole: boolean;
  memoryMiB: number;
}

/** A node with, per device index, what live instances hold of it. */
export interface NodeAllocation {
  node: NodeRecord;
  allocated: Map<number, DeviceAllocation>;
}

/** GPUs of one type on READY nodes: whole-held, shared and free devices. */
export interface GpuTypeSummary {
  type: string;
  memoryMiB: number;
  total: number;
  allocated: number;
  shared: number;
  free: number;
}

/** The fleet as a whole: nodes, their GPUs and what is allocated on them (for `/v1/nodes`, `/v1/gpus` and metrics). */
export class FleetService {
  constructor(private readonly store: Pick<Store, 'fleet'>) {}

  async nodes(): Promise<NodeAllocation[]> {
    const byNode = new Map<string, Map<number, DeviceAllocation>>();
    for (const i of await this.store.fleet.listInstances({ states: [...LIVE_INSTANCE_STATES] })) {
      let m = byNode.get(i.nodeId);
      if (!m) byNode.set(i.nodeId, (m = new Map()));
      for (const g of i.gpus) {
        const a = m.get(g.index) ?? { whole: false, memoryMiB: 0 };
        if (g.memoryMiB === undefined) a.whole = true;
        else a.memoryMiB += g.memoryMiB;
        m.set(g.index, a);
      }
    }
    return (await this.store.fleet.listNodes()).map((node) => ({ node, allocated: byNode.get(node.id) ?? new Map() }));
  }

  async gpuTypes(): Promise<GpuTypeSummary[]> {
    const types = new Map<string, GpuTypeSummary>();
    for (const { node, allocated } of await this.nodes()) {
      if (node.state !== 'READY') continue;
      for (const g of node.gpus) {
        const t = types.get(g.type) ?? { type: g.type, memoryMiB: g.memoryMiB, total: 0, allocated: 0, shared: 0, free: 0 };
        const a = allocated.get(g.index);
        t.total++;
        if (a?.whole) t.allocated++;
        else if (a) t.shared++;
        else t.free++;
        types.set(g.type, t);
      }
    }
    return [...types.values()];
  }
}
