import type { InstanceInfo } from '../../../src/sdk/client.ts';
import { formatMiB, formatTime, shortId } from '../format.ts';
import { href } from '../router.ts';
import { StatusBadge } from './status-badge.tsx';

/** Instances with their node, GPUs and load; `showVersion` links each to its deployment. */
export function InstanceTable({ instances, showVersion = false }: { instances: InstanceInfo[]; showVersion?: boolean }) {
  if (instances.length === 0) return <p className="muted">No instances.</p>;
  return (
    <table className="instances">
      <thead>
        <tr>
          <th>Instance</th>
          {showVersion && <th>Version</th>}
          <th>State</th>
          <th>Node</th>
          <th>GPUs</th>
          <th>Active tasks</th>
          <th>Started</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {instances.map((i) => (
          <tr key={i.id} data-instance={i.id}>
            <td>
              <code title={i.id}>{shortId(i.id)}</code>
            </td>
            {showVersion && (
              <td>
                <a href={href({ page: 'deployment', functionId: i.functionId, versionId: i.versionId })}>
                  <code title={i.versionId}>{shortId(i.versionId)}</code>
                </a>
              </td>
            )}
            <td>
              <StatusBadge state={i.state} />
            </td>
            <td>
              <code title={i.nodeId}>{shortId(i.nodeId)}</code>
            </td>
            <td>{i.gpus.length === 0 ? '—' : i.gpus.map((g) => `#${g.index} ${g.type}${g.memoryMiB ? ` (${formatMiB(g.memoryMiB)})` : ''}`).join(', ')}</td>
            <td>{i.activeTasks}</td>
            <td>{formatTime(i.createdAt)}</td>
            <td className="reason-cell">{i.reason ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
