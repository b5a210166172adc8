import { type Graph, type GraphNode, type NodeProgress } from '../state-graph.ts';

const ARROW = 'state-graph-arrow';

/** A machine's graph in SVG: states as boxes coloured by status, containers for branches and items; a click picks a state. */
export function StateGraph({ graph, progress, selected, onSelect }: { graph: Graph; progress: Map<string, NodeProgress>; selected: string; onSelect: (id: string) => void }) {
  return (
    <svg className="state-graph" width={graph.w} height={graph.h} viewBox={`0 0 ${graph.w} ${graph.h}`}>
      <defs>
        <marker id={ARROW} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" />
        </marker>
      </defs>
      <Machine graph={graph} progress={progress} selected={selected} onSelect={onSelect} />
    </svg>
  );
}

function Machine({ graph, progress, selected, onSelect }: { graph: Graph; progress: Map<string, NodeProgress>; selected: string; onSelect: (id: string) => void }) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return (
    <g transform={`translate(${graph.x},${graph.y})`}>
      {graph.edges.map((e) => {
        const a = byId.get(e.from);
        const b = byId.get(e.to);
        return a && b ? <path key={`${e.from}>${e.to}:${e.kind}`} className={`edge edge-${e.kind}`} d={edgePath(a, b)} markerEnd={`url(#${ARROW})`} /> : null;
      })}
      {graph.nodes.map((n) => {
        const p = progress.get(n.id);
        const status = p?.status ?? 'idle';
        return (
          <g key={n.id} transform={`translate(${n.x},${n.y})`} className={`state st-${status}${n.id === selected ? ' selected' : ''}`} data-state={n.id} data-status={status} onClick={(ev) => { ev.stopPropagation(); onSelect(n.id); }}>
            <rect width={n.w} height={n.h} rx={8} />
            <text x={10} y={n.inner.length > 0 ? 17 : 17} className="state-name">{n.name}</text>
            <text x={10} y={n.inner.length > 0 ? 17 : 32} dx={n.inner.length > 0 ? n.w - 20 : 0} textAnchor={n.inner.length > 0 ? 'end' : 'start'} className="state-meta">
              {n.type}{p && (p.done > 1 || p.failed > 0) ? ` · ${p.done} done${p.failed ? `, ${p.failed} failed` : ''}` : ''}
            </text>
            {n.inner.map((g, i) => (
              <Machine key={i} graph={g} progress={progress} selected={selected} onSelect={onSelect} />
            ))}
          </g>
        );
      })}
    </g>
  );
}

/** Down to the next row straight; back up (a loop) or sideways around the right. */
function edgePath(a: GraphNode, b: GraphNode): string {
  const [ax, ay] = [a.x + a.w / 2, a.y + a.h];
  const [bx, by] = [b.x + b.w / 2, b.y];
  if (by > ay) return `M ${ax} ${ay} C ${ax} ${ay + 20}, ${bx} ${by - 20}, ${bx} ${by}`;
  const right = Math.max(a.x + a.w, b.x + b.w) + 30;
  return `M ${a.x + a.w} ${a.y + a.h / 2} C ${right} ${a.y + a.h / 2}, ${right} ${b.y + b.h / 2}, ${b.x + b.w} ${b.y + b.h / 2}`;
}
