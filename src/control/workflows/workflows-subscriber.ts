import { FerryError } from '../../core/errors.js';
import { type TaskOutcome, isFinalOutcome } from '../../core/outcomes.js';
import { historyDetail, type NewHistoryEntry } from '../../core/workflows/workflow.js';
import type { Store } from '../../store/store.js';
import type { OutcomeSubscriber } from '../outcomes/outcome-dispatcher.js';
import { type ExecutionInput, type ExecutionDriver, taskEvent, taskResult } from './execution-driver.js';

/**
 * Moves executions on as their tasks end: the outcome feed's consumer `workflows`. A batch's
 * outcomes are grouped by execution and each execution takes its group in one step. An outcome
 * handed over again changes nothing: the step that waited for its task has moved on, and its
 * history entries are kept once (by the outcome's id). An attempt that the task itself retries
 * is only history. A store that cannot be reached fails the batch (it comes again); any other
 * failure of one execution is reported and passed over, so it cannot hold up every other one.
 */
export class WorkflowsSubscriber implements OutcomeSubscriber {
  readonly name = 'workflows';

  constructor(
    private readonly store: Pick<Store, 'workflows' | 'tasks'>,
    private readonly driver: ExecutionDriver,
    private readonly onError: (err: unknown) => void,
  ) {}

  async handle(outcomes: TaskOutcome[]): Promise<void> {
    const refs = await this.store.workflows.executionTasksOf([...new Set(outcomes.map((o) => o.taskId))]);
    if (refs.length === 0) return;
    const byTask = new Map(refs.map((r) => [r.taskId, r]));
    const inputs = new Map<string, Required<Pick<ExecutionInput, 'events' | 'history'>>>();
    for (const o of outcomes) {
      const ref = byTask.get(o.taskId);
      if (!ref) continue;
      let input = inputs.get(ref.executionId);
      if (!input) inputs.set(ref.executionId, (input = { events: [], history: [] }));
      const entry = (type: NewHistoryEntry['type'], detail: unknown): NewHistoryEntry => ({ at: o.at, type, key: ref.key, state: ref.state, taskId: o.taskId, detail: historyDetail(detail), eventId: o.id });
      if (!isFinalOutcome(o)) {
        input.history.push(entry('TaskAttemptFailed', { attempt: o.attempt, error: o.errorCode }));
        continue;
      }
      const task = await this.store.tasks.getTask(o.tenantId, o.taskId);
      if (!task) continue;
      const event = taskEvent(ref.key, task);
      input.events.push(event);
      input.history.push(
        event.type === 'task-succeeded'
          ? entry('TaskSucceeded', { attempt: o.attempt, output: taskResult(task) })
          : entry('TaskFailed', { attempt: o.attempt, error: { Error: event.type === 'task-failed' ? event.code : '', Cause: event.type === 'task-failed' ? event.message : '' } }),
      );
    }
    const applied = await Promise.allSettled([...inputs].map(([executionId, input]) => this.driver.apply(executionId, input)));
    const failures = applied.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
    const unavailable = failures.find((err) => err instanceof FerryError && err.code === 'STORE_UNAVAILABLE');
    if (unavailable) throw unavailable;
    for (const err of failures) this.onError(err);
  }
}
