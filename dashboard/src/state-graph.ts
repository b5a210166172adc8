import type { ExecutionInfo, HistoryEntryInfo, StateMachine } from '../../src/sdk/client.ts';

/*
 * An execution drawn as the graph of its definition: states in rows by their distance from
 * StartAt, a Parallel's branches and a Map's item processor drawn inside their state, and each
 * state's status read from the history. States are named by their place in the definition
 * (`Both.1.Notify`: state Notify of branch 1 of Both; `Each.*.Work`: Work in Each's items), which
 * is how a step key (`x/3:Both#1/b1/1:Notify#1`) is turned into a state of the graph.
 */

export interface GraphNode {
  id: string;
  name: string;
  type: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** A Parallel's branches or a Map's processor, in the node's own coordinates. */
  inner: Graph[];
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Catch edges are drawn dashed. */
  kind: 'next' | 'choice' | 'catch';
}

export interface Graph {
  x: number;
  y: number;
  w: number;
  h: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const NODE = { w: 150, h: 40 };
const GAP = { x: 24, y: 44 };
const PAD = 12;
const HEADER = 26;

function transitions(s: Record<string, unknown>): { to: string; kind: GraphEdge['kind'] }[] {
  const out: { to: string; kind: GraphEdge['kind'] }[] = [];
  if (typeof s.Next === 'string') out.push({ to: s.Next, kind: 'next' });
  for (const c of (s.Choices as { Next: string }[] | undefined) ?? []) out.push({ to: c.Next, kind: 'choice' });
  if (typeof s.Default === 'string') out.push({ to: s.Default, kind: 'choice' });
  for (const c of (s.Catch as { Next: string }[] | undefined) ?? []) out.push({ to: c.Next, kind: 'catch' });
  return out;
}

/** Lays a machine out: rows by distance from StartAt, each row centred. */
export function layoutMachine(m: StateMachine, prefix = ''): Graph {
  const level = new Map<string, number>([[m.StartAt, 0]]);
  const queue = [m.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    for (const t of transitions(m.States[name] as unknown as Record<string, unknown>)) {
      if (!level.has(t.to) && m.States[t.to]) {
        level.set(t.to, level.get(name)! + 1);
        queue.push(t.to);
      }
    }
  }
  const rows: GraphNode[][] = [];
  for (const [name, s] of Object.entries(m.States)) {
    const id = `${prefix}${name}`;
    const inner =
      s.Type === 'Parallel' ? s.Branches.map((b, i) => layoutMachine(b, `${id}.${i}.`)) : s.Type === 'Map' ? [layoutMachine(s.ItemProcessor, `${id}.*.`)] : [];
    let w = NODE.w;
    let h = NODE.h;
    if (inner.length > 0) {
      let x = PAD;
      for (const g of inner) {
        g.x = x;
        g.y = HEADER;
        x += g.w + PAD;
      }
      w = Math.max(NODE.w, x);
      h = HEADER + Math.max(...inner.map((g) => g.h)) + PAD;
    }
    (rows[level.get(name) ?? rows.length] ??= []).push({ id, name, type: s.Type, x: 0, y: 0, w, h, inner });
  }
  const width = Math.max(...rows.filter(Boolean).map((r) => r.reduce((a, n) => a + n.w, 0) + GAP.x * (r.length - 1)));
  let y = PAD;
  const nodes: GraphNode[] = [];
  for (const row of rows.filter(Boolean)) {
    let x = PAD + (width - (row.reduce((a, n) => a + n.w, 0) + GAP.x * (row.length - 1))) / 2;
    for (const n of row) {
      n.x = x;
      n.y = y;
      x += n.w + GAP.x;
      nodes.push(n);
    }
    y += Math.max(...row.map((n) => n.h)) + GAP.y;
  }
  const edges = Object.entries(m.States).flatMap(([name, s]) =>
    transitions(s as unknown as Record<string, unknown>).map((t) => ({ from: `${prefix}${name}`, to: `${prefix}${t.to}`, kind: t.kind })),
  );
  return { x: 0, y: 0, w: width + 2 * PAD, h: y - GAP.y + PAD, nodes, edges };
}

/** The graph state a step key names (`x/3:Both#1/b1/1:Notify#1` → `Both.1.Notify`). */
export function nodeOfKey(key: string): string {
  const parts: string[] = [];
  for (const token of key.split('/').slice(1)) {
    const branch = /^([bi])(\d+)$/.exec(token);
    if (branch) parts.push(branch[1] === 'b' ? branch[2]! : '*');
    else parts.push(token.slice(token.indexOf(':') + 1).replace(/#\d+$/, ''));
  }
  return parts.join('.');
}

export type NodeStatus = 'running' | 'failed' | 'succeeded' | 'retrying' | 'idle';

export interface NodeProgress {
  status: NodeStatus;
  /** Visits that left the state, and that failed in it (a Map's items: one each). */
  done: number;
  failed: number;
}

/** Each state's status: running while a current step is in it, else failed, succeeded, or not reached. */
export function nodeProgress(execution: ExecutionInfo, history: HistoryEntryInfo[]): Map<string, NodeProgress> {
  const progress = new Map<string, NodeProgress>();
  const of = (key: string): NodeProgress => {
    const id = nodeOfKey(key);
    let p = progress.get(id);
    if (!p) progress.set(id, (p = { status: 'idle', done: 0, failed: 0 }));
    return p;
  };
  for (const h of history) {
    if (!h.key) continue;
    const p = of(h.key);
    if (h.type === 'StateExited') p.done++;
    if (h.type === 'StateFailed' || h.type === 'StateCaught') p.failed++;
  }
  for (const p of progress.values()) p.status = p.failed > 0 ? 'failed' : p.done > 0 ? 'succeeded' : 'idle';
  for (const s of execution.currentSteps) of(s.key).status = s.kind === 'retry' ? 'retrying' : 'running';
  return progress;
}
