import { type FormEvent, useState } from 'react';
import { TASK_STATUSES } from '../../../src/core/states.ts';
import type { Page, TaskInfo } from '../../../src/sdk/client.ts';
import { allFunctions } from '../api.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { between, formatDuration, formatTime, shortId } from '../format.ts';
import { href, navigate } from '../router.ts';
import { useClient } from '../session.ts';
import { usePoll } from '../use-poll.ts';

const PAGE = 25;
// The API's largest page: the refreshed head of the list grows up to it, older pages stay as loaded.
const MAX_PAGE = 500;
const ACTIVE = 'QUEUED,RUNNING,CANCELLING';

/** Task history, newest first, refreshed every 2 s; filters live in the URL. */
export function TasksPage({ functionId, status }: { functionId: string; status: string }) {
  const client = useClient();
  const [shown, setShown] = useState(PAGE);
  const [older, setOlder] = useState<Page<TaskInfo> | null>(null);
  const [search, setSearch] = useState('');
  const [moreError, setMoreError] = useState<unknown>(null);
  const fns = usePoll('functions', () => allFunctions(client), 10_000);
  const filter = { functionId: functionId || undefined, status: status || undefined };
  const head = usePoll('tasks', () => client.listTasks({ ...filter, limit: Math.min(shown, MAX_PAGE) }), 2000);

  const names = new Map(fns.data?.map((f) => [f.id, f.name]));
  const headItems = head.data?.items ?? [];
  const inHead = new Set(headItems.map((t) => t.id));
  const items = [...headItems, ...(older?.items.filter((t) => !inHead.has(t.id)) ?? [])];
  const nextCursor = older ? older.nextCursor : head.data?.nextCursor;

  async function more(): Promise<void> {
    setMoreError(null);
    if (shown < MAX_PAGE) {
      setShown((s) => Math.min(s + PAGE, MAX_PAGE));
      head.refresh();
      return;
    }
    try {
      const page = await client.listTasks({ ...filter, limit: PAGE, cursor: nextCursor ?? undefined });
      setOlder((o) => ({ items: [...(o?.items ?? []), ...page.items], nextCursor: page.nextCursor }));
    } catch (err) {
      setMoreError(err);
    }
  }

  const open = (e: FormEvent): void => {
    e.preventDefault();
    if (search.trim()) navigate({ page: 'task', taskId: search.trim() });
  };

  return (
    <div className="page">
      <header className="page-header">
        <h1>Tasks</h1>
        <span className="spacer" />
        <form className="search" onSubmit={open}>
          <input aria-label="Task id" placeholder="task id" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button type="submit">Open</button>
        </form>
      </header>
      <div className="filters">
        <label>
          Function{' '}
          <select aria-label="Function" value={functionId} onChange={(e) => navigate({ page: 'tasks', functionId: e.target.value, status })}>
            <option value="">all</option>
            {fns.data?.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select aria-label="Status" value={status} onChange={(e) => navigate({ page: 'tasks', functionId, status: e.target.value })}>
            <option value="">all</option>
            <option value={ACTIVE}>active</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small">refreshes every 2 s</span>
      </div>
      <ErrorNote error={head.error ?? moreError} />
      {head.data && items.length === 0 && <p className="muted">No tasks{functionId || status ? ' match these filters' : ' yet'}.</p>}
      {items.length > 0 && (
        <table className="tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Function</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Attempt</th>
              <th>Created</th>
              <th>Waited</th>
              <th>Ran</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id} data-task={t.id}>
                <td>
                  <a href={href({ page: 'task', taskId: t.id })}>
                    <code title={t.id}>{shortId(t.id)}</code>
                  </a>
                </td>
                <td>{names.get(t.functionId) ?? shortId(t.functionId)}</td>
                <td>
                  <StatusBadge state={t.status} />
                  {t.position !== undefined && <span className="muted small"> #{t.position}</span>}
                </td>
                <td>
                  <ProgressBar value={t.progress} compact />
                </td>
                <td>
                  {t.attempt}/{t.maxAttempts}
                </td>
                <td>{formatTime(t.createdAt)}</td>
                <td>{formatDuration(between(t.createdAt, t.startedAt ?? t.finishedAt))}</td>
                <td>{formatDuration(between(t.startedAt, t.finishedAt))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextCursor && (
        <button type="button" className="more" onClick={() => void more()}>
          More
        </button>
      )}
    </div>
  );
}
