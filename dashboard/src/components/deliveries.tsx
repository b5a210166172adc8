import type { DeliveryInfo } from '../../../src/sdk/client.ts';
import { formatTime } from '../format.ts';
import { href } from '../router.ts';
import { useClient } from '../session.ts';
import { usePoll } from '../use-poll.ts';
import { StatusBadge } from './status-badge.tsx';

/** Where a destination sends: a webhook's URL, a broker's subject, the next function. */
function target(d: DeliveryInfo): string {
  const { webhook, publish, function: next, workflow } = d.destination;
  if (webhook) return webhook.url;
  if (publish) return `${publish.broker} ${publish.subject}`;
  if (workflow) return `workflow ${workflow.workflowId}`;
  return `function ${next?.functionId ?? ''}`;
}

/** A task's deliveries to its destinations, each with every attempt; polled while one is pending. */
export function Deliveries({ taskId, ended }: { taskId: string; ended: boolean }) {
  const client = useClient();
  const { data } = usePoll(`deliveries ${taskId} ${ended}`, () => client.taskDeliveries(taskId), 2000);
  if (!data || data.length === 0) return null;
  return (
    <section className="card deliveries">
      <h2>Deliveries</h2>
      {data.map((d) => (
        <div key={d.id} className="delivery" data-delivery={d.id}>
          <p>
            <StatusBadge state={d.status} /> on {d.event} → <code>{target(d)}</code> <span className="muted">webhook-id {d.id}</span>
            {d.resultTaskId && (
              <>
                {' '}
                made <a href={href({ page: 'task', taskId: d.resultTaskId })}>{d.resultTaskId}</a>
              </>
            )}
            {d.resultExecutionId && (
              <>
                {' '}
                started <a href={href({ page: 'execution', executionId: d.resultExecutionId })}>{d.resultExecutionId}</a>
              </>
            )}
          </p>
          {d.nextAttemptAt && <p className="muted">next attempt {formatTime(d.nextAttemptAt)} (gives up {formatTime(d.deadline)})</p>}
          <table>
            <thead>
              <tr>
                <th>Attempt</th>
                <th>At</th>
                <th>Answer</th>
                <th>Took</th>
              </tr>
            </thead>
            <tbody>
              {d.attempts.map((a, i) => (
                <tr key={a.at + i}>
                  <td>{i + 1}</td>
                  <td>{formatTime(a.at)}</td>
                  <td>{a.error ?? (a.statusCode === null ? 'done' : `HTTP ${a.statusCode}`)}</td>
                  <td>{a.durationMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
