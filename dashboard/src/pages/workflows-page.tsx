import { useMemo, useState } from 'react';
import type { ExecutionInfo, FerryClient, HistoryEntryInfo } from '../../../src/sdk/client.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { JsonBlock } from '../components/json-block.tsx';
import { StateGraph } from '../components/state-graph.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { between, formatDuration, formatTime, shortId } from '../format.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { layoutMachine, nodeOfKey, nodeProgress } from '../state-graph.ts';
import { useAction } from '../use-action.ts';
import { usePoll } from '../use-poll.ts';

/** History entries the graph reads at most: a Map of many items draws from the first ones. */
const MAX_HISTORY = 20_000;

async function loadWorkflows(client: FerryClient) {
  const [workflows, executions] = await Promise.all([client.workflows.list({ limit: 500 }), client.workflows.executions({ limit: 50 })]);
  return { workflows: workflows.items, executions: executions.items };
}

/** Workflows with their versions, and the newest executions of all of them. */
export function WorkflowsPage() {
  const client = useClient();
  const { data, error } = usePoll('workflows', () => loadWorkflows(client), 2000);
  const names = new Map(data?.workflows.map((w) => [w.id, w.name]));
  return (
    <div className="page">
      <h1>Workflows</h1>
      <ErrorNote error={error} />
      {data?.workflows.length === 0 && <p className="muted">No workflows yet: create one with `ferry workflows create NAME -f wf.json` or POST /v1/workflows.</p>}
      {data && data.workflows.length > 0 && (
        <table className="workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Version</th>
              <th>Description</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {data.workflows.map((w) => (
              <tr key={w.id} data-workflow={w.name}>
                <td>{w.name}</td>
                <td>{w.latestVersion}</td>
                <td className="muted">{w.description}</td>
                <td>{formatTime(w.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.executions.length > 0 && (
        <section className="card">
          <h2>Executions</h2>
          <table className="executions">
            <thead>
              <tr>
                <th>Execution</th>
                <th>Workflow</th>
                <th>Status</th>
                <th>Steps done</th>
                <th>Started</th>
                <th>Took</th>
              </tr>
            </thead>
            <tbody>
              {data.executions.map((e) => (
                <tr key={e.id} data-execution={e.id}>
                  <td>
                    <a href={href({ page: 'execution', executionId: e.id })}>
                      <code>{shortId(e.id)}</code>
                    </a>
                  </td>
                  <td>{names.get(e.workflowId) ?? e.workflowId}</td>
                  <td>
                    <StatusBadge state={e.status} />
                  </td>
                  <td>{e.stepsDone}</td>
                  <td>{formatTime(e.createdAt)}</td>
                  <td>{formatDuration(between(e.createdAt, e.endedAt))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

/** The execution, its definition and its history (the first MAX_HISTORY entries). */
async function loadExecution(client: FerryClient, executionId: string) {
  const execution = await client.workflows.execution(executionId);
  const workflow = await client.workflows.get(execution.workflowId);
  const history: HistoryEntryInfo[] = [];
  for (let after = 0; history.length < MAX_HISTORY; ) {
    const page = await client.workflows.history(executionId, { after, limit: 5000 });
    history.push(...page.items);
    if (page.nextAfter === null) break;
    after = page.nextAfter;
  }
  const definition = workflow.version?.id === execution.versionId ? workflow.version.definition : (await client.workflows.versions(execution.workflowId)).find((v) => v.id === execution.versionId)!.definition;
  return { execution, definition, history };
}

/** One execution as the graph of its states, coloured by status; a state clicked lists its tasks. */
export function ExecutionPage({ executionId }: { executionId: string }) {
  const client = useClient();
  const [selected, setSelected] = useState('');
  const { data, error, refresh } = usePoll(`execution ${executionId}`, () => loadExecution(client, executionId), 1500);
  // The selected state's tasks (the first page of those of its name, then those of its place).
  const name = selected.split('.').at(-1) ?? '';
  const tasks = usePoll(`tasks ${executionId} ${selected}`, () => (name ? client.workflows.tasks(executionId, { state: name }).then((p) => p.items) : Promise.resolve([])), 1500);
  const cancel = useAction();
  const graph = useMemo(() => (data ? layoutMachine(data.definition) : null), [data?.definition]); // eslint-disable-line react-hooks/exhaustive-deps
  const progress = data ? nodeProgress(data.execution, data.history) : new Map();
  const e: ExecutionInfo | undefined = data?.execution;
  const stepTasks = tasks.data?.filter((t) => nodeOfKey(t.key) === selected) ?? [];
  return (
    <div className="page">
      <p className="crumbs">
        <a href="#/workflows">Workflows</a> / <code>{executionId}</code>
      </p>
      <ErrorNote error={error ?? cancel.error} />
      {e && graph && (
        <>
          <header className="page-header">
            <h1>
              Execution <code title={e.id}>{shortId(e.id)}</code> <StatusBadge state={e.status} />
            </h1>
            {e.status === 'RUNNING' && (
              <button type="button" disabled={cancel.busy} onClick={() =>
                  void cancel.run(async () => {
                    await client.workflows.cancel(e.id);
                    refresh();
                    return 'Cancelled.';
                  })
                }
              >
                Cancel
              </button>
            )}
          </header>
          <dl className="facts">
            <dt>Steps done</dt>
            <dd>{e.stepsDone}</dd>
            <dt>Now in</dt>
            <dd>{[...new Set(e.currentSteps.map((s) => s.state))].join(', ') || '—'}</dd>
            <dt>Started</dt>
            <dd>{formatTime(e.createdAt)}</dd>
            <dt>Took</dt>
            <dd>{formatDuration(between(e.createdAt, e.endedAt))}</dd>
          </dl>
          <section className="card graph-card" onClick={() => setSelected('')}>
            <StateGraph graph={graph} progress={progress} selected={selected} onSelect={setSelected} />
          </section>
          {selected && (
            <section className="card step-tasks">
              <h2>
                Tasks of <code>{selected}</code>
              </h2>
              {stepTasks.length === 0 && <p className="muted">This state starts no task, or has not yet.</p>}
              <ul>
                {stepTasks.map((t) => (
                  <li key={t.key}>
                    <a href={href({ page: 'task', taskId: t.taskId })}>{t.taskId}</a> {t.status && <StatusBadge state={t.status} />} <span className="muted">{t.key} · attempt {t.attempt}</span>
                  </li>
                ))}
              </ul>
            </section>
          )}
          {e.error && (
            <section className="card task-error">
              <h2>Error</h2>
              <p>
                <code>{e.error.Error}</code> {e.error.Cause}
              </p>
            </section>
          )}
          <div className="facts-columns">
            <JsonBlock title="Input" value={e.input} />
            <JsonBlock title="Output" value={e.output} empty={e.status === 'RUNNING' ? 'not yet' : 'none'} />
          </div>
        </>
      )}
    </div>
  );
}
