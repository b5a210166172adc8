import type { FerryClient, NodeInfo } from '../../../src/sdk/client.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { InstanceTable } from '../components/instance-table.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatMiB, formatTime } from '../format.ts';
import { useClient } from '../session.ts';
import { usePoll } from '../use-poll.ts';

async function loadFleet(client: FerryClient) {
  const [gpus, nodes, instances] = await Promise.all([client.gpus(), client.nodes(), client.instances()]);
  return { gpus: gpus.items, nodes: nodes.items, instances: instances.items };
}

/** The fleet: GPU types with what is free, each node's GPUs and how they are given out, live instances. */
export function NodesPage() {
  const client = useClient();
  const { data, error } = usePoll('fleet', () => loadFleet(client), 2000);
  return (
    <div className="page">
      <h1>Nodes &amp; GPUs</h1>
      <ErrorNote error={error} />
      <section className="card">
        <h2>GPU types</h2>
        {data && data.gpus.length === 0 && <p className="muted">No GPUs on any node.</p>}
        {data && data.gpus.length > 0 && (
          <table className="gpu-types">
            <thead>
              <tr>
                <th>Type</th>
                <th>Memory</th>
                <th>Total</th>
                <th>Whole</th>
                <th>Shared</th>
                <th>Free</th>
                <th className="wide">Use</th>
              </tr>
            </thead>
            <tbody>
              {data.gpus.map((g) => (
                <tr key={g.type} data-gpu-type={g.type}>
                  <td>
                    <strong>{g.type}</strong>
                  </td>
                  <td>{formatMiB(g.memoryMiB)}</td>
                  <td>{g.total}</td>
                  <td>{g.allocated}</td>
                  <td>{g.shared}</td>
                  <td>{g.free}</td>
                  <td>
                    <UseBar parts={[{ n: g.allocated, cls: 'whole' }, { n: g.shared, cls: 'shared' }, { n: g.free, cls: 'free' }]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <h2>Nodes</h2>
      {data?.nodes.length === 0 && <p className="muted">No nodes have registered.</p>}
      <div className="nodes">
        {data?.nodes.map((n) => (
          <NodeCard key={n.id} node={n} />
        ))}
      </div>
      <section className="card">
        <h2>Instances</h2>
        {data && <InstanceTable instances={data.instances} showVersion />}
      </section>
    </div>
  );
}

function NodeCard({ node }: { node: NodeInfo }) {
  return (
    <section className="card node-card" data-node={node.name}>
      <header className="card-header">
        <h3>{node.name}</h3>
        <StatusBadge state={node.state} />
        <span className="spacer" />
        <span className="muted small">seen {formatTime(node.lastSeenAt)}</span>
      </header>
      <code className="muted small">{node.id}</code>
      {node.gpus.length === 0 ? (
        <p className="muted">No GPUs.</p>
      ) : (
        <div className="gpus">
          {node.gpus.map((g) => (
            <div key={g.index} className={`gpu gpu-${g.allocated}`} data-gpu={g.index}>
              <div className="gpu-title">
                <strong>
                  GPU {g.index} · {g.type}
                </strong>
                <span className={`badge a-${g.allocated}`}>{g.allocated}</span>
              </div>
              <div className="meter" title={`${g.allocatedMemoryMiB} of ${g.memoryMiB} MiB allocated`}>
                <div className="meter-fill" style={{ width: `${g.memoryMiB ? (100 * g.allocatedMemoryMiB) / g.memoryMiB : 0}%` }} />
              </div>
              <div className="muted small">
                {formatMiB(g.allocatedMemoryMiB)} of {formatMiB(g.memoryMiB)} allocated
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

function UseBar({ parts }: { parts: { n: number; cls: string }[] }) {
  const total = parts.reduce((s, p) => s + p.n, 0) || 1;
  return (
    <div className="use-bar">
      {parts.map((p) => (p.n > 0 ? <div key={p.cls} className={`use-${p.cls}`} style={{ width: `${(100 * p.n) / total}%` }} /> : null))}
    </div>
  );
}
