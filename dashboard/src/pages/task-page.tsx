import { useEffect, useState } from 'react';
import { isTerminalTask } from '../../../src/core/states.ts';
import type { LogLine, TaskInfo } from '../../../src/sdk/client.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { JsonBlock } from '../components/json-block.tsx';
import { LogView } from '../components/log-view.tsx';
import { Deliveries } from '../components/deliveries.tsx';
import { OutputAssets } from '../components/output-assets.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { between, formatDuration, formatTime, shortId } from '../format.ts';
import { followTask } from '../live.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { useAction } from '../use-action.ts';
import { usePoll } from '../use-poll.ts';

/** One task, followed live until it ends: status, progress, timings, data and logs. */
export function TaskPage({ taskId }: { taskId: string }) {
  const client = useClient();
  const [task, setTask] = useState<TaskInfo | null>(null);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [following, setFollowing] = useState(true);
  const now = useNow(task !== null && !isTerminalTask(task.status));
  const cancel = useAction();
  const functionId = task?.functionId ?? '';
  const fn = usePoll(functionId, () => (functionId ? client.getFunction(functionId) : Promise.resolve(null)), 60_000);
  const functionName = fn.data?.name;

  useEffect(() => {
    const abort = new AbortController();
    const listener = {
      onTask: (t: TaskInfo) => {
        setTask(t);
        setError(null);
      },
      onLogs: (added: LogLine[]) => setLines((l) => [...l, ...added]),
      onError: setError,
    };
    void followTask(client, taskId, listener, abort.signal).finally(() => abort.signal.aborted || setFollowing(false));
    return () => abort.abort();
  }, [client, taskId]);

  const cancellable = task?.status === 'QUEUED' || task?.status === 'RUNNING';
  const requestCancel = (): Promise<void> =>
    cancel.run(async () => {
      // The task's stream shows the change: the answer here may arrive after the stream's end.
      await client.cancelTask(taskId);
      return 'Cancel requested.';
    });

  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/tasks">Tasks</a> / <code>{taskId}</code>
      </p>
      <header className="page-header">
        <h1>
          Task <code title={taskId}>{shortId(taskId)}</code>
        </h1>
        {task && <StatusBadge state={task.status} />}
        {task?.position !== undefined && <span className="position">position {task.position} in the queue</span>}
        <span className="spacer" />
        {cancellable && (
          <button type="button" className="danger" disabled={cancel.busy} onClick={() => void requestCancel()}>
            Cancel
          </button>
        )}
      </header>
      <ErrorNote error={error ?? cancel.error} />
      {cancel.done && <p className="notice">{cancel.done}</p>}
      {task && (
        <>
          <section className="card">
            <ProgressBar value={task.progress} />
            <p className="progress-message">{task.progressMessage ?? <span className="muted">no progress message</span>}</p>
            <div className="facts-columns">
              <dl className="facts">
                <dt>Function</dt>
                <dd>
                  <a href={href({ page: 'deployment', functionId: task.functionId, versionId: task.versionId })} title={`${task.functionId} / ${task.versionId}`}>
                    {functionName ?? shortId(task.functionId)}
                  </a>{' '}
                  <span className="muted">{task.taskType}</span>
                </dd>
                <dt>Attempt</dt>
                <dd>
                  {task.attempt} of {task.maxAttempts}
                </dd>
                <dt>Priority · timeout</dt>
                <dd>
                  {task.priority} · {task.timeoutSeconds} s
                </dd>
                <dt>Instance</dt>
                <dd>{task.instanceId ? <code title={task.instanceId}>{shortId(task.instanceId)}</code> : '—'}</dd>
              </dl>
              <dl className="facts">
                <dt>Created</dt>
                <dd>{formatTime(task.createdAt)}</dd>
                <dt>Started</dt>
                <dd>{formatTime(task.startedAt)}</dd>
                <dt>Finished</dt>
                <dd>{formatTime(task.finishedAt)}</dd>
                <dt>Queue wait</dt>
                <dd>{formatDuration(between(task.createdAt, task.startedAt ?? task.finishedAt, now))}</dd>
                <dt>Run time</dt>
                <dd>{formatDuration(between(task.startedAt, task.finishedAt, now))}</dd>
              </dl>
            </div>
          </section>
          {task.error && (
            <section className={task.status === 'CANCELLED' ? 'card task-error cancelled' : 'card task-error'}>
              <h3>{task.status === 'CANCELLED' ? 'Cancelled' : 'Error'}</h3>
              <p>
                <strong>{task.error.code}</strong> {task.error.message}
                {task.error.exitCode !== undefined && ` (exit code ${task.error.exitCode})`}
                {task.error.httpStatus !== undefined && ` (HTTP ${task.error.httpStatus})`}
              </p>
            </section>
          )}
          <div className="columns">
            <JsonBlock title="Input" value={task.input} />
            <JsonBlock title={isTerminalTask(task.status) ? 'Output' : 'Partial output'} value={isTerminalTask(task.status) ? task.output : task.partialOutput} empty={isTerminalTask(task.status) ? 'none' : 'nothing yet'} />
          </div>
          {task.outputAssets.length > 0 && <OutputAssets taskId={task.id} assets={task.outputAssets} />}
          <Deliveries taskId={task.id} ended={isTerminalTask(task.status)} />
        </>
      )}
      <section className="card">
        <h2>
          Logs {following ? <span className="live">● live</span> : <span className="muted small">ended</span>}
        </h2>
        <LogView lines={lines} />
      </section>
    </div>
  );
}

/** The current time, ticking each second while `running`, for durations still growing. */
function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}
