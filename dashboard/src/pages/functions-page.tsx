import type { DeploymentInfo, FerryClient, FunctionInfo, VersionInfo } from '../../../src/sdk/client.ts';
import { allFunctions, allVersions, deploymentOrNull, describeResources, describeRuntime } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { shortId } from '../format.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { usePoll } from '../use-poll.ts';

interface FunctionRow {
  fn: FunctionInfo;
  versions: { version: VersionInfo; deployment: DeploymentInfo | null }[];
}

async function loadFunctions(client: FerryClient): Promise<FunctionRow[]> {
  const fns = await allFunctions(client);
  return Promise.all(
    fns.map(async (fn) => {
      const versions = await allVersions(client, fn.id);
      const rows = await Promise.all(versions.map(async (version) => ({ version, deployment: await deploymentOrNull(client, fn.id, version.id) })));
      // Newest version first: it is the one usually being watched.
      return { fn, versions: rows.reverse() };
    }),
  );
}

export function FunctionsPage() {
  const client = useClient();
  const { data, error } = usePoll('functions', () => loadFunctions(client), 3000);
  return (
    <div className="page">
      <h1>Functions</h1>
      <ErrorNote error={error} />
      {data === undefined && !error && <p className="muted">Loading…</p>}
      {data?.length === 0 && <p className="muted">No functions yet. Create one with <code>ferry functions create -f fn.json</code>.</p>}
      {data?.map((row) => <FunctionCard key={row.fn.id} row={row} />)}
    </div>
  );
}

function FunctionCard({ row: { fn, versions } }: { row: FunctionRow }) {
  return (
    <section className="card function-card" data-function={fn.name}>
      <header className="card-header">
        <h2>{fn.name}</h2>
        <code className="muted" title={fn.id}>
          {fn.id}
        </code>
        {fn.tags.map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
        <span className="spacer" />
        <a href={href({ page: 'tasks', functionId: fn.id, status: '' })}>Tasks →</a>
      </header>
      {fn.description && <p className="muted">{fn.description}</p>}
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Mode</th>
            <th>Runtime</th>
            <th>Resources</th>
            <th>Concurrency</th>
            <th>Deployment</th>
            <th>Instances</th>
          </tr>
        </thead>
        <tbody>
          {versions.map(({ version: v, deployment: d }) => {
            const serving = d?.instances.filter((i) => i.state === 'STARTING' || i.state === 'IDLE' || i.state === 'BUSY').length ?? 0;
            const link = href({ page: 'deployment', functionId: fn.id, versionId: v.id });
            return (
              <tr key={v.id} data-version={v.id}>
                <td>
                  <a href={link}>v{v.number}</a> <code className="muted" title={v.id}>{shortId(v.id)}</code>
                </td>
                <td>{v.mode}</td>
                <td>{describeRuntime(v)}</td>
                <td>{describeResources(v.resources)}</td>
                <td>{v.concurrency}</td>
                <td>{d ? <a href={link}><StatusBadge state={d.state} /></a> : <span className="muted">not deployed</span>}</td>
                <td>{d ? `${serving} serving · ${d.minInstances}–${d.maxInstances}` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
