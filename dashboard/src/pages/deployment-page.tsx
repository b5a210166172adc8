import { useRef, useState } from 'react';
import type { DeploymentInfo, InstanceInfo } from '../../../src/sdk/client.ts';
import { deploymentOrNull, describeResources, describeRuntime } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { InstanceTable } from '../components/instance-table.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TimelineChart } from '../components/timeline-chart.tsx';
import { formatTime, shortId } from '../format.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { type Mark, type Sample, addMarks, addSamples, marksOf, sampleOf, samplesFromTimeline } from '../timeline.ts';
import { useAction } from '../use-action.ts';
import { usePoll } from '../use-poll.ts';
import { UndeployButton } from './undeploy-button.tsx';

const SAMPLE_MS = 2000;

/** One deployed version: state, settings, instances, events and the scaling timeline. */
export function DeploymentPage({ functionId, versionId }: { functionId: string; versionId: string }) {
  const client = useClient();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [marks, setMarks] = useState<Mark[]>([]);
  const meta = usePoll(`${functionId}/${versionId}`, async () => {
    const [fn, version] = await Promise.all([client.getFunction(functionId), client.getVersion(functionId, versionId)]);
    return { fn, version };
  }, 30_000);
  // The autoscaler's samples since the last one read (the last hour at first): the timeline's past.
  const timelineSince = useRef<string | undefined>(undefined);
  // The timeline's series live here while the page is open: the server's samples, and one of the page's own per answer.
  const live = usePoll(`${functionId}/${versionId}`, async () => {
    const [deployment, queue, timeline] = await Promise.all([
      deploymentOrNull(client, functionId, versionId),
      client.queue(functionId, versionId),
      client.deploymentTimeline(functionId, versionId, { since: timelineSince.current }),
    ]);
    const last = timeline.samples.at(-1);
    if (last) timelineSince.current = new Date(Date.parse(last.at) + 1).toISOString();
    setSamples((s) => addSamples(s, [...samplesFromTimeline(timeline.samples), sampleOf(queue, Date.now())]));
    setMarks((m) => addMarks(m, marksOf(deployment?.events ?? [])));
    return { deployment, queue };
  }, SAMPLE_MS);
  const action = useAction();

  const fn = meta.data?.fn;
  const version = meta.data?.version;
  const d = live.data?.deployment;
  const queue = live.data?.queue;

  const redeploy = (current: DeploymentInfo): Promise<void> =>
    action.run(async () => {
      const { minInstances, maxInstances, targetPerInstance, scaleDownDelaySeconds, scaleToZeroAfterSeconds } = current;
      await client.deploy(functionId, versionId, { minInstances, maxInstances, targetPerInstance, scaleDownDelaySeconds, scaleToZeroAfterSeconds });
      live.refresh();
      return `Redeployed at ${formatTime(new Date().toISOString())}.`;
    });
  const deploy = (): Promise<void> =>
    action.run(async () => {
      await client.deploy(functionId, versionId, {});
      live.refresh();
      return 'Deployed with the default settings.';
    });

  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/functions">Functions</a> / {fn?.name ?? functionId} / v{version?.number ?? '?'}
      </p>
      <header className="page-header">
        <h1>
          {fn?.name ?? functionId} <span className="muted">v{version?.number ?? ''}</span>
        </h1>
        {d && <StatusBadge state={d.state} />}
        <span className="spacer" />
        {d && d.state !== 'INACTIVE' && (
          <button type="button" className="primary" disabled={action.busy} onClick={() => void redeploy(d)}>
            Redeploy
          </button>
        )}
        {d && d.state === 'INACTIVE' && (
          <button type="button" className="primary" disabled={action.busy} onClick={() => void redeploy(d)}>
            Deploy again
          </button>
        )}
        {live.data && !d && (
          <button type="button" className="primary" disabled={action.busy} onClick={() => void deploy()}>
            Deploy
          </button>
        )}
        {d && d.state !== 'INACTIVE' && <UndeployButton functionId={functionId} versionId={versionId} onDone={live.refresh} />}
      </header>
      <ErrorNote error={meta.error ?? live.error ?? action.error} />
      {action.done && <p className="notice">{action.done}</p>}
      {d?.reason && <p className="reason">{d.reason}</p>}
      {live.data && !d && <p className="muted">This version is not deployed.</p>}

      <div className="stats">
        <Stat label="Queued" value={queue?.queued} />
        <Stat label="Running" value={queue?.running} />
        <Stat label="Serving instances" value={live.data ? samples.at(-1)?.instances : undefined} />
        <Stat label="Desired" value={lastDesired(marks)} />
      </div>

      <section className="card">
        <h2>Timeline</h2>
        <p className="muted small">
          What the autoscaler sampled (kept a day), and every {SAMPLE_MS / 1000} s while this page is open. Dashed lines: scaling decisions
          (serving→desired). Ticks: instance transitions.
        </p>
        <TimelineChart samples={samples} marks={marks} />
      </section>

      <div className="columns">
        <section className="card">
          <h2>Scaling</h2>
          {d ? (
            <dl className="settings">
              <dt>Instances</dt>
              <dd>
                {d.minInstances} – {d.maxInstances}
              </dd>
              <dt>Target per instance</dt>
              <dd>{d.targetPerInstance} tasks</dd>
              <dt>Scale-down delay</dt>
              <dd>{d.scaleDownDelaySeconds} s</dd>
              <dt>Scale to zero after</dt>
              <dd>{d.scaleToZeroAfterSeconds} s</dd>
            </dl>
          ) : (
            <p className="muted">Not deployed.</p>
          )}
        </section>
        <section className="card">
          <h2>Version</h2>
          {version && (
            <dl className="settings">
              <dt>Mode</dt>
              <dd>{version.mode}</dd>
              <dt>Runtime</dt>
              <dd>{describeRuntime(version)}</dd>
              <dt>Resources</dt>
              <dd>{describeResources(version.resources)}</dd>
              <dt>Concurrency · timeout · retries</dt>
              <dd>
                {version.concurrency} · {version.timeoutSeconds} s · {version.retries}
              </dd>
            </dl>
          )}
          <a href={href({ page: 'tasks', functionId, status: '' })}>Tasks of this function →</a>
        </section>
      </div>

      <section className="card">
        <header className="card-header">
          <h2>Instances</h2>
          <InstanceCounts instances={d?.instances ?? []} />
        </header>
        <InstanceTable instances={d?.instances ?? []} />
      </section>

      <section className="card">
        <h2>Recent events</h2>
        <EventList events={d?.events ?? []} />
      </section>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number | undefined }) {
  return (
    <div className="stat">
      <div className="stat-value">{value ?? '—'}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

function lastDesired(marks: Mark[]): number | undefined {
  const last = marks.filter((m) => m.kind === 'scaling').at(-1);
  return last ? Number(last.label.split('→')[1]) : undefined;
}

function InstanceCounts({ instances }: { instances: InstanceInfo[] }) {
  const counts = new Map<string, number>();
  for (const i of instances) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  if (counts.size === 0) return null;
  return (
    <div className="counts">
      {[...counts].map(([state, n]) => (
        <span key={state} className="count">
          <StatusBadge state={state} /> {n}
        </span>
      ))}
    </div>
  );
}

function EventList({ events }: { events: DeploymentInfo['events'] }) {
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <table className="events">
      <thead>
        <tr>
          <th>Time</th>
          <th>Kind</th>
          <th>Subject</th>
          <th>Change</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {[...events].reverse().map((e, n) => (
          <tr key={`${e.at}/${n}`} className={`event-${e.kind}`}>
            <td>{formatTime(e.at)}</td>
            <td>{e.kind}</td>
            <td>
              <code title={e.subject}>{shortId(e.subject)}</code>
            </td>
            <td>
              {e.from ?? '∅'} → {e.to}
            </td>
            <td>{e.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
