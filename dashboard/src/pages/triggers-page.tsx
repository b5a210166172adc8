import type { FerryClient, TriggerInfo } from '../../../src/sdk/client.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatTime } from '../format.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { useAction } from '../use-action.ts';
import { usePoll } from '../use-poll.ts';

/** What a trigger listens to, in a line. */
function source(t: TriggerInfo): string {
  if (t.kind === 'cron') return `${t.schedule} (${t.timezone}${t.catchUp ? ', catch-up' : ''})`;
  if (t.kind === 'webhook') return `POST ${t.hookPath}`;
  if (t.kind === 'asset') return `assets${t.filter?.contentType ? ` of type ${t.filter.contentType}` : ''}${t.filter?.name ? ` named ${t.filter.name}` : ''}`;
  const s = t.source!;
  return `${s.subject ?? s.stream ?? s.queue ?? s.topic} at ${s.url}`;
}

async function loadTriggers(client: FerryClient, selected: string) {
  const triggers = (await client.triggers.list({ limit: 500 })).items;
  const fires = selected ? (await client.triggers.tasks(selected, { limit: 20 })).items : [];
  return { triggers, fires };
}

/** Triggers with their state, last fire, last error and next fire times; one selected shows the tasks it made. */
export function TriggersPage({ selected }: { selected: string }) {
  const client = useClient();
  const { data, error, refresh } = usePoll(`triggers ${selected}`, () => loadTriggers(client, selected), 2000);
  const action = useAction();
  const current = data?.triggers.find((t) => t.id === selected);
  return (
    <div className="page">
      <h1>Triggers</h1>
      <ErrorNote error={error ?? action.error} />
      {data?.triggers.length === 0 && <p className="muted">No triggers yet: create one with `ferry triggers create` or POST /v1/triggers.</p>}
      {data && data.triggers.length > 0 && (
        <table className="triggers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Source</th>
              <th>State</th>
              <th>Tasks</th>
              <th>Last fired</th>
              <th>Next</th>
              <th>Last error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.triggers.map((t) => (
              <tr key={t.id} data-trigger={t.name} className={t.id === selected ? 'selected' : ''}>
                <td>
                  <a href={href({ page: 'triggers', triggerId: t.id })}>{t.name}</a>
                </td>
                <td>{t.kind}</td>
                <td>
                  <code>{source(t)}</code>
                </td>
                <td>
                  <StatusBadge state={t.state} />
                </td>
                <td>{t.fired}</td>
                <td>{formatTime(t.lastFiredAt)}</td>
                <td>{t.nextFires?.[0] ? formatTime(t.nextFires[0]) : '—'}</td>
                <td className="error-text">{t.lastError ?? ''}</td>
                <td>
                  <button type="button" disabled={action.busy} onClick={() =>
                      void action.run(async () => {
                        const done = t.state === 'PAUSED' ? await client.triggers.resume(t.id) : await client.triggers.pause(t.id);
                        refresh();
                        return `${done.name} is ${done.state}`;
                      })
                    }
                  >
                    {t.state === 'PAUSED' ? 'Resume' : 'Pause'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && (
        <section className="card">
          <h2>What {current.name} started</h2>
          {data!.fires.length === 0 && <p className="muted">None yet.</p>}
          <ul className="fires">
            {data!.fires.map((f) => (
              <li key={f.eventKey}>
                {formatTime(f.at)}{' '}
                {f.executionId ? <a href={href({ page: 'execution', executionId: f.executionId })}>{f.executionId}</a> : <a href={href({ page: 'task', taskId: f.taskId! })}>{f.taskId}</a>}{' '}
                <span className="muted">event {f.eventKey}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
