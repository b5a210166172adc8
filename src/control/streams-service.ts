import { createHash } from 'node:crypto';
import { isTerminalTask } from '../core/states.js';
import type { FleetEvent, TaskLogLine } from '../core/types.js';
import type { FleetEventFilter } from '../store/deployment-store.js';
import type { Store } from '../store/store.js';
import type { TaskWatchers } from './wakeups/task-watchers.js';
import type { Wakeups } from './wakeups/wakeups.js';
import type { TaskView, TasksService } from './tasks-service.js';

/**
 * What a follower of a task is told: `status` when its status or attempt changed, `progress` when
 * its progress, message or partial output did, `position` when only its place in the queue moved,
 * and `end`, last, when it ended. Each carries the whole task as it is then.
 */
export interface TaskStreamEvent {
  type: 'status' | 'progress' | 'position' | 'end';
  /** What the follower has seen, for `Last-Event-ID`: see `taskStreamId`. */
  id: string;
  task: TaskView;
}

const LOG_PAGE = 1000;
const FLEET_PAGE = 500;

/**
 * The id of a task's state as its stream shows it: attempt, status, a digest of the progress
 * fields, and the queue position. A follower that reconnects with it is sent only what differs,
 * so a stream resumes without storing a history of every change.
 */
export function taskStreamId(task: TaskView): string {
  const progress = createHash('sha1')
    .update(JSON.stringify([task.progress, task.progressMessage, task.partialOutput ?? null]))
    .digest('base64url')
    .slice(0, 12);
  return [task.attempt, task.status, progress, task.position ?? ''].join('.');
}

function changeOf(before: string | null, now: string, ended: boolean): TaskStreamEvent['type'] | null {
  if (ended) return before === now ? null : 'end';
  if (before === now) return null;
  const [a0, s0, p0] = before?.split('.') ?? [];
  const [a1, s1, p1] = now.split('.');
  if (a0 !== a1 || s0 !== s1) return 'status';
  return p0 !== p1 ? 'progress' : 'position';
}

/**
 * Live views for followers (the SSE routes, the dashboard): a task's state changes, its logs as
 * they are written, and the deployment events of a tenant's fleet. Changes made through this
 * replica wake followers at once; those made through another replica are seen on the next poll.
 */
export class StreamsService {
  constructor(
    private readonly store: Pick<Store, 'deployments'>,
    private readonly tasks: TasksService,
    private readonly watchers: TaskWatchers,
    private readonly wakeups: Wakeups,
    /** How often a follower reads again when nothing here woke it. */
    private readonly pollMs: number,
  ) {}

  /**
   * A task's state changes until it ends. The first event shows the task as it is, unless
   * `lastEventId` says the follower saw that already; the last one is `end`.
   */
  taskEvents(tenantId: string, taskId: string, lastEventId: string | null, signal: AbortSignal): AsyncGenerator<TaskStreamEvent> {
    const tasks = this.tasks;
    let seen = lastEventId;
    return this.onEachChange(taskId, signal, async function* () {
      const task = await tasks.get(tenantId, taskId);
      const id = taskStreamId(task);
      const ended = isTerminalTask(task.status);
      const type = changeOf(seen, id, ended);
      if (type) yield { type, id, task };
      seen = id;
      return ended;
    });
  }

  /** A task's log lines after `afterSeq`, as they are written, until the task has ended and every line is out. */
  taskLogs(tenantId: string, taskId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<TaskLogLine> {
    const tasks = this.tasks;
    let after = afterSeq;
    return this.onEachChange(taskId, signal, async function* () {
      // The status is read before the lines: an agent stores a task's last lines before its end.
      const { task, lines } = await tasks.logs(tenantId, taskId, after, LOG_PAGE);
      let page = lines;
      for (;;) {
        for (const line of page) yield line;
        if (page.length > 0) after = page[page.length - 1]!.seq;
        if (page.length < LOG_PAGE || signal.aborted) break;
        page = (await tasks.logs(tenantId, taskId, after, LOG_PAGE)).lines;
      }
      return isTerminalTask(task.status);
    });
  }

  /**
   * Runs `read` now, then again at each change of the task (or poll) until it says it is done
   * or `signal` aborts. The wait is armed before each read, so a change during one is not missed.
   */
  private async *onEachChange<T>(taskId: string, signal: AbortSignal, read: () => AsyncGenerator<T, boolean>): AsyncGenerator<T> {
    const stop = new AbortController();
    const waits = AbortSignal.any([signal, stop.signal]);
    try {
      while (!signal.aborted) {
        const changed = this.watchers.nextChange(taskId, this.pollMs, waits);
        if (yield* read()) return;
        await changed;
      }
    } finally {
      // Ends the wait still pending when the follower stopped or the read said it is done.
      stop.abort();
    }
  }

  /** The deployment events of the tenant's fleet after `filter.afterSeq`, as they are written, until `signal` aborts. */
  async *fleetEvents(tenantId: string, filter: FleetEventFilter, signal: AbortSignal): AsyncGenerator<FleetEvent> {
    let after = filter.afterSeq;
    let wake: (() => void) | null = null;
    const off = this.wakeups.on('fleet', () => wake?.());
    try {
      while (!signal.aborted) {
        const woken = new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.pollMs);
          signal.addEventListener('abort', done, { once: true });
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
        });
        const page = await this.store.deployments.listFleetEvents(tenantId, { ...filter, afterSeq: after }, FLEET_PAGE);
        for (const e of page) yield e;
        if (page.length > 0) after = page[page.length - 1]!.seq;
        if (page.length === FLEET_PAGE) {
          wake!();
          continue;
        }
        await woken;
      }
    } finally {
      wake = null;
      off();
    }
  }
}
