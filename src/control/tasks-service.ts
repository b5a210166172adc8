import type { Clock } from '../core/clock.js';
import type { DeliveryAttempt, DeliveryRecord } from '../core/destinations.js';
import { FerryError, invalid } from '../core/errors.js';
import { hashRequest } from '../core/ids.js';
import { newTask } from '../core/new-task.js';
import { LIMITS } from '../core/limits.js';
import { isServingDeployment, isTerminalTask, type TaskStatus } from '../core/states.js';
import type { DeploymentRecord, FunctionRecord, Page, SubmitRequest, TaskLogLine, TaskRecord, VersionRecord } from '../core/types.js';
import { defaultTaskType, supportsTaskType } from '../core/version-spec.js';
import type { PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';
import type { EnqueueResult, NewTask, TaskFilter } from '../store/task-queue.js';
import type { FunctionsService } from './functions-service.js';
import type { ServingCache, ServingFunction } from './serving-cache.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { ClaimWaiters } from './wakeups/claim-waiters.js';
import type { TaskWatchers } from './wakeups/task-watchers.js';


/** A task as the API shows it: the record plus its queue position while queued. */
export type TaskView = TaskRecord & { position?: number };

/** Submitting, reading, cancelling and waiting for tasks. */
export class TasksService {
  constructor(
    private readonly store: Pick<Store, 'deployments' | 'tasks' | 'assets' | 'deliveries'>,
    private readonly functions: FunctionsService,
    private readonly claimers: ClaimWaiters,
    private readonly watchers: TaskWatchers,
    private readonly lifecycle: TaskLifecycle,
    private readonly serving: ServingCache,
    private readonly clock: Clock,
    /** Lease length of a task handed to a waiting instance by its enqueue. */
    private readonly leaseMs: number,
  ) {}

  /**
   * Stores the task durably, then wakes claimers and the reconciler. When an instance of the
   * version is waiting for work (an idle one first), the same transaction leases it the head of
   * the queue (usually this task), and it gets the task without a claim of its own.
   */
  async submit(tenantId: string, req: SubmitRequest): Promise<{ task: TaskView; created: boolean }> {
    const { newTask: asked, versionId } = await this.prepare(tenantId, req);
    const { task } = asked;
    const waiter = this.claimers.takeWaiter(versionId);
    let handed: TaskRecord[] = [];
    let result: EnqueueResult;
    try {
      result = await this.store.tasks.enqueueTask(asked, waiter ? { instanceId: waiter.instanceId, limit: 1, leaseMs: this.leaseMs } : undefined);
      if (result.created) handed = result.claimed;
    } finally {
      // A taken waiter is always answered: with what was leased to it, or sent to claim for itself.
      waiter?.deliver(handed);
    }
    if (!result.created) {
      if (!result.sameRequest) throw keyReused(task, result.task);
      return { task: await this.view(result.task), created: false };
    }
    this.lifecycle.enqueued([result.task], handed);
    const { task: stored, position } = result;
    return { task: stored.status === 'QUEUED' && position !== null ? { ...stored, position } : await this.view(stored), created: true };
  }

  /**
   * Stores many tasks in one transaction (`POST /v1/tasks/batch`): each that can be stored, in
   * order, with its position; for each that cannot (its function unknown or not deployed, its
   * input too large, its idempotency key used for another request) the error, in its place. A
   * failure of the store fails the whole batch: nothing of it is then acknowledged.
   */
  async submitBatch(tenantId: string, reqs: SubmitRequest[]): Promise<BatchItem[]> {
    const prepared = await Promise.all(reqs.map((req) => this.prepare(tenantId, req).catch((err: unknown) => asTaskRefusal(err))));
    const valid = prepared.filter((p): p is Prepared => !(p instanceof FerryError));
    const stored = await this.store.tasks.enqueueBatch(valid.map((p) => p.newTask));
    const byId = new Map(stored.map((s, i) => [valid[i]!.newTask.task.id, s]));
    this.lifecycle.enqueued(stored.filter((s) => s.created).map((s) => s.task), []);
    return Promise.all(
      prepared.map(async (p): Promise<BatchItem> => {
        if (p instanceof FerryError) return { error: p };
        const s = byId.get(p.newTask.task.id)!;
        if (s.created) return { task: { ...s.task, position: s.position }, created: true };
        if (!s.sameRequest) return { error: keyReused(p.newTask.task, s.task) };
        return { task: await this.view(s.task), created: false };
      }),
    );
  }

  /**
   * A task checked as `submit` checks it, but not stored: for a caller that stores it in a
   * transaction of its own (a workflow's step), and then announces it with `announce`.
   */
  async check(tenantId: string, req: SubmitRequest): Promise<NewTask> {
    return (await this.prepare(tenantId, req)).newTask;
  }

  /** Tasks stored by a caller of `check`: their claimers and the reconciler are woken. */
  announce(tasks: TaskRecord[]): void {
    if (tasks.length > 0) this.lifecycle.enqueued(tasks, []);
  }

  /**
   * A task as asked for, checked against its function, version and deployment (read once and
   * kept, see ServingCache: this is the dispatch path), ready to store.
   */
  private async prepare(tenantId: string, req: SubmitRequest): Promise<Prepared> {
    const { fn, serving, versions } = await this.serving.get(tenantId, req.functionId, () => this.lookUpFunction(tenantId, req.functionId));
    const picked = req.versionId === undefined ? pickServing(fn, serving) : null;
    const versionId = picked?.versionId ?? req.versionId!;
    const version = versions.get(versionId) ?? (await this.functions.versionOf(fn, versionId));
    const deployment = picked ?? serving.find((d) => d.versionId === version.id);
    if (!deployment) throw new FerryError('NOT_DEPLOYED', `version ${version.number} (${version.id}) of ${fn.name} is not deployed`);
    const taskType = req.taskType ?? defaultTaskType(version.spec);
    if (!supportsTaskType(version.spec, taskType)) {
      throw invalid(`taskType: version ${version.number} of ${fn.name} has no ${taskType === 'query' ? 'server' : 'job'} section to run "${taskType}" tasks`);
    }
    const inputJson = JSON.stringify(req.input ?? null);
    if (Buffer.byteLength(inputJson) > LIMITS.maxInputBytes) {
      throw new FerryError('PAYLOAD_TOO_LARGE', `input: ${Buffer.byteLength(inputJson)} bytes is over the ${LIMITS.maxInputBytes}-byte inline limit; upload it as an asset`);
    }
    const inputAssets = req.inputAssets?.length ? await this.checkInputAssets(tenantId, req.inputAssets) : undefined;
    const destinations = req.destinations ? await this.functions.checkDestinations(tenantId, req.destinations, 'destinations') : null;
    const task = newTask(
      {
        tenantId,
        functionId: fn.id,
        versionId: version.id,
        taskType,
        input: req.input ?? null,
        priority: req.priority ?? 0,
        maxAttempts: version.spec.retries + 1,
        timeoutSeconds: req.timeoutSeconds ?? version.spec.timeoutSeconds,
        idempotencyKey: req.idempotencyKey ?? null,
        inputAssets,
        destinations,
        maxQueuedMs: version.spec.maxQueuedSeconds * 1000,
      },
      this.clock.now(),
    );
    // The hash covers what the caller asked, not the version picked for them, so a retry matches.
    const requestHash = task.idempotencyKey === null ? null : hashRequest([fn.id, req.versionId ?? '', req.taskType ?? '', inputJson, task.inputAssets.join(','), ...(destinations ? [JSON.stringify(destinations)] : [])]);
    return { newTask: { task, requestHash }, versionId: version.id };
  }

  /** The ids, once each is a READY, unexpired asset of the tenant; else the first that is not, named. */
  private async checkInputAssets(tenantId: string, ids: string[]): Promise<string[]> {
    const now = this.clock.now();
    for (const id of ids) {
      const asset = await this.store.assets.getAsset(tenantId, id);
      if (!asset || (!asset.pinned && asset.expiresAt <= now)) throw invalid(`inputAssets: no asset ${id}`);
      if (asset.status !== 'READY') throw invalid(`inputAssets: asset ${id} is ${asset.status}: its upload has not completed`);
    }
    return ids;
  }

  /** A function with its serving deployments and their versions. */
  private async lookUpFunction(tenantId: string, idOrName: string): Promise<ServingFunction> {
    const fn = await this.functions.get(tenantId, idOrName);
    const serving = (await this.store.deployments.listDeployments({ tenantId, functionId: fn.id })).filter((d) => isServingDeployment(d.state));
    const versions = new Map<string, VersionRecord>();
    for (const d of serving) versions.set(d.versionId, await this.functions.versionOf(fn, d.versionId));
    return { fn, serving, versions };
  }

  async get(tenantId: string, taskId: string): Promise<TaskView> {
    return this.view(await this.record(tenantId, taskId));
  }

  async position(tenantId: string, taskId: string): Promise<{ taskId: string; status: TaskStatus; position: number | null }> {
    const task = await this.record(tenantId, taskId);
    return { taskId: task.id, status: task.status, position: task.status === 'QUEUED' ? await this.store.tasks.taskPosition(task) : null };
  }

  list(tenantId: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskRecord>> {
    return this.store.tasks.listTasks(tenantId, filter, page);
  }

  /** Cancels a queued task at once, or asks the running attempt's agent to stop it. */
  async cancel(tenantId: string, taskId: string): Promise<TaskView> {
    const result = await this.store.tasks.requestCancel(tenantId, taskId);
    if (!result) throw notFound(taskId);
    const { task, previous } = result;
    if (isTerminalTask(previous)) throw new FerryError('TASK_NOT_CANCELLABLE', `task ${taskId} already ended ${previous}`);
    // Ended at once (it was queued), or CANCELLING: its node is told to stop it (again, for a repeated cancel).
    this.lifecycle.moved([task]);
    return this.view(task);
  }

  /** Waits up to `ms` for the task to end; returns it as it is then. */
  async waitForEnd(tenantId: string, taskId: string, ms: number): Promise<TaskView> {
    // Subscribe before reading so an end between the read and the wait is not missed.
    const ended = this.watchers.waitForEnd(taskId, ms);
    const task = await this.record(tenantId, taskId);
    if (isTerminalTask(task.status)) return this.view(task);
    const done = await ended;
    return done && done.tenantId === tenantId ? this.view(done) : this.get(tenantId, taskId);
  }

  async logs(tenantId: string, taskId: string, afterSeq: number, limit: number): Promise<{ task: TaskRecord; lines: TaskLogLine[] }> {
    const task = await this.record(tenantId, taskId);
    return { task, lines: await this.store.tasks.getLogs(tenantId, taskId, afterSeq, limit) };
  }

  /** Where the task's outcome was sent, each delivery with its attempts. */
  async deliveries(tenantId: string, taskId: string): Promise<{ delivery: DeliveryRecord; attempts: DeliveryAttempt[] }[]> {
    const task = await this.record(tenantId, taskId);
    return this.store.deliveries.listDeliveries(tenantId, task.id);
  }

  private async record(tenantId: string, taskId: string): Promise<TaskRecord> {
    const task = await this.store.tasks.getTask(tenantId, taskId);
    if (!task) throw notFound(taskId);
    return task;
  }

  private async view(task: TaskRecord): Promise<TaskView> {
    return task.status === 'QUEUED' ? { ...task, position: await this.store.tasks.taskPosition(task) } : task;
  }
}

interface Prepared {
  newTask: NewTask;
  versionId: string;
}

/** One task of a batch as answered: stored (or found by its key), or refused with the reason. */
export type BatchItem = { task: TaskView; created: boolean } | { error: FerryError };

/** One of the function's serving deployments, at random. */
function pickServing(fn: FunctionRecord, serving: DeploymentRecord[]): DeploymentRecord {
  if (serving.length === 0) throw new FerryError('NOT_DEPLOYED', `function ${fn.name} has no deployed version`);
  return serving[Math.floor(Math.random() * serving.length)]!;
}

/** A task of a batch that cannot be stored is refused in its place; anything else (the store failing) fails the batch. */
function asTaskRefusal(err: unknown): FerryError {
  if (err instanceof FerryError && err.status < 500) return err;
  throw err;
}

function keyReused(asked: TaskRecord, earlier: TaskRecord): FerryError {
  return new FerryError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${asked.idempotencyKey}" was used for a different request (task ${earlier.id})`, { details: { taskId: earlier.id } });
}

function notFound(taskId: string): FerryError {
  return new FerryError('TASK_NOT_FOUND', `task ${taskId} not found`);
}