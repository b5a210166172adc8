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
 * is only history.
 */
export class WorkflowsSubscriber implements OutcomeSubscriber {
  readonly name = 'workflows';

  constructor(
    private readonly store: Pick<Store, 'workflows' | 'tasks'>,
    private readonly driver: ExecutionDriver,
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
    await Promise.all([...inputs].map(([executionId, input]) => this.driver.apply(executionId, input)));
  }
}
