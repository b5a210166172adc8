import type { TaskStatus } from '../core/states.js';
import type { LeaseReport, TaskRef } from '../core/types.js';

/**
 * What a heartbeat is told of the leases it held, from the rows whose lease it just renewed: a
 * task not among them, or in another attempt, is lost; one renewed but CANCELLING is to be stopped.
 */
export function leaseReport(held: TaskRef[], renewed: { id: string; attempt: number; status: TaskStatus }[]): LeaseReport {
  const current = new Map(renewed.map((r) => [r.id, r]));
  const report: LeaseReport = { cancel: [], lost: [] };
  for (const ref of held) {
    const row = current.get(ref.id);
    if (!row || row.attempt !== ref.attempt) report.lost.push(ref);
    else if (row.status === 'CANCELLING') report.cancel.push(ref);
  }
  return report;
}
