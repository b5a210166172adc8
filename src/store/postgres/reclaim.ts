import { decideReclaim } from '../../core/completion.js';
import { LIMITS } from '../../core/limits.js';
import type { TaskStatus } from '../../core/states.js';
import type { TaskError, TaskRecord } from '../../core/types.js';
import type { ReclaimedTask } from '../store.js';
import type { Row, Sql } from './connection.js';
import { encodeJson, toTask } from '../rows.js';
import { SQL } from './statements.js';

/**
 * Takes back leased tasks whose holder is gone: core/completion.ts decides each one's fate (another
 * attempt, FAILED, or CANCELLED when a cancel was asked for), and each fate is one statement over
 * all its tasks rather than one per task, so a node lost with a hundred tasks costs three
 * statements. Runs inside the caller's transaction, which holds the tasks' rows.
 */
export async function reclaimTasks(sql: Sql, tasks: TaskRecord[], error: TaskError, now: number): Promise<ReclaimedTask[]> {
  const next = new Map(tasks.map((t) => [t.id, decideReclaim(t.status, t.lostAttempts, LIMITS.extraAttemptsForLostLeases)]));
  const updated = new Map<string, TaskRecord>();
  const apply = async (status: TaskStatus, statement: string, args: unknown[]): Promise<void> => {
    const ids = tasks.filter((t) => next.get(t.id) === status).map((t) => t.id);
    if (ids.length > 0) for (const [id, task] of byId(await sql.rows(statement, [ids, ...args]))) updated.set(id, task);
  };
  await apply('QUEUED', SQL.requeue, [1, now, encodeJson(error)]);
  await apply('FAILED', SQL.finish, ['FAILED', null, encodeJson(error), now]);
  await apply('CANCELLED', SQL.finish, ['CANCELLED', null, encodeJson(cancelledError('CANCELLED')), now]);
  return tasks.map((t) => ({ task: updated.get(t.id)!, status: next.get(t.id)!, taken: { attempt: t.attempt, instanceId: t.instanceId } }));
}

/** The error a cancelled task ends with. */
export function cancelledError(status: TaskStatus): TaskError | null {
  return status === 'CANCELLED' ? { code: 'CANCELLED', message: 'cancelled by request' } : null;
}

export function byId(rows: Row[]): Map<string, TaskRecord> {
  return new Map(rows.map((r) => [r.id as string, toTask(r)]));
}
