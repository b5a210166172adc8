import type { AssetTransfer, OutputFileTerms } from '../core/assets.js';
import type { AgentNotifications, AgentProtocol, ClaimRequest, HeldLeases, InstanceAssignment } from '../core/agent-protocol.js';
import type { Clock } from '../core/clock.js';
import { FerryError } from '../core/errors.js';
import type { AttemptOutcome } from '../core/completion.js';
import type { GpuDevice } from '../core/gpu-spec.js';
import { LIVE_INSTANCE_STATES, instanceStatesBefore, isLeasedTask } from '../core/states.js';
import type { LeaseReport, TaskLogLine, TaskProgress, TaskRecord, TaskRef, VersionRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { AssetsService } from './assets/assets-service.js';
import type { ControlConfig } from './control-config.js';
import { recordDeploymentEvent } from './deployment-events.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { ClaimWaiters } from './wakeups/claim-waiters.js';
import type { TaskWatchers } from './wakeups/task-watchers.js';
import type { Wakeups } from './wakeups/wakeups.js';

/**
 * The control plane's side of the agent protocol. The in-process agent calls it directly; the
 * HTTP agent routes call the same methods for remote agents.
 */
export class AgentGateway implements AgentProtocol {
  private readonly versions = new Map<string, VersionRecord>();

  constructor(
    private readonly store: Pick<Store, 'catalog' | 'deployments' | 'fleet' | 'tasks'>,
    private readonly wakeups: Wakeups,
    private readonly claimers: ClaimWaiters,
    private readonly watchers: TaskWatchers,
    private readonly lifecycle: TaskLifecycle,
    private readonly clock: Clock,
    private readonly config: ControlConfig,
    private readonly assets: AssetsService,
  ) {}

  async registerNode(node: { id: string; name: string; gpus: GpuDevice[] }): Promise<void> {
    const now = this.clock.now();
    const existing = await this.store.fleet.getNode(node.id);
    await this.store.fleet.upsertNode({ ...node, state: 'READY', lastSeenAt: now, createdAt: existing?.createdAt ?? now });
    // A registering agent is a fresh process: whatever the store thought ran there is gone.
    const { instances, tasks } = await this.store.fleet.failNodeInstances(node.id, 'its agent restarted');
    for (const i of instances) {
      await recordDeploymentEvent(this.store, this.wakeups, { versionId: i.versionId, at: now, kind: 'instance', subject: i.id, from: 'live', to: 'FAILED', reason: 'its agent restarted' });
      this.wakeups.emit({ kind: 'version', versionId: i.versionId });
    }
    this.lifecycle.moved(tasks.map((r) => r.task));
    this.wakeups.emit({ kind: 'capacity' });
  }

  async assignments(nodeId: string): Promise<InstanceAssignment[]> {
    const instances = await this.store.fleet.listInstances({ nodeId, states: [...LIVE_INSTANCE_STATES] });
    const out: InstanceAssignment[] = [];
    for (const instance of instances) {
      let version = this.versions.get(instance.versionId);
      if (!version) {
        version = (await this.store.catalog.getVersion(instance.tenantId, instance.versionId)) ?? undefined;
        if (!version) continue;
        this.versions.set(version.id, version);
      }
      out.push({ instance, version });
    }
    return out;
  }

  async instanceEvent(instanceId: string, message: string): Promise<void> {
    const instance = await this.store.fleet.getInstance(instanceId);
    if (!instance) return;
    await recordDeploymentEvent(this.store, this.wakeups, { versionId: instance.versionId, at: this.clock.now(), kind: 'instance', subject: instanceId, from: instance.state, to: instance.state, reason: message });
  }

  async instanceState(instanceId: string, to: 'IDLE' | 'STOPPED' | 'FAILED', reason: string | null): Promise<void> {
    const before = await this.store.fleet.getInstance(instanceId);
    const moved = await this.store.fleet.moveInstance(instanceId, instanceStatesBefore(to), to, reason);
    if (!moved || !before) return;
    await recordDeploymentEvent(this.store, this.wakeups, { versionId: moved.versionId, at: this.clock.now(), kind: 'instance', subject: instanceId, from: before.state, to, reason: reason ?? (to === 'IDLE' ? 'ready' : 'stopped') });
    if (to === 'IDLE') this.wakeups.emit({ kind: 'instance-ready', versionId: moved.versionId });
    if (to === 'FAILED') this.wakeups.emit({ kind: 'instance-failed', versionId: moved.versionId, reason: reason ?? 'failed' });
    this.wakeups.emit({ kind: 'version', versionId: moved.versionId });
    if (to !== 'IDLE') {
      this.lifecycle.moved((await this.store.tasks.releaseInstanceTasks([instanceId], 'requeue')).map((r) => r.task));
      this.wakeups.emit({ kind: 'capacity' });
    }
  }

  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<TaskRecord[]> {
    const { instanceId, versionId, limit, waitMs } = request;
    const idle = request.running === 0;
    const since = this.claimers.readyMark(versionId);
    if (this.mayClaimNow(request)) {
      const claimed = await this.store.tasks.claimTasks({ instanceId, limit, leaseMs: this.config.leaseMs });
      if (claimed.length > 0 || waitMs <= 0 || signal?.aborted) return this.claimed(versionId, claimed, limit);
    }
    const instance = await this.store.fleet.getInstance(instanceId);
    if (!instance || instance.state !== 'IDLE' || instance.versionId !== versionId) return [];
    // Wait for an enqueue, but no longer than until a delayed retry becomes runnable.
    const nextRunAt = await this.store.tasks.nextRunAt(versionId);
    const ms = nextRunAt === null ? waitMs : Math.max(0, Math.min(waitMs, nextRunAt - this.clock.now()));
    const woken = await this.claimers.waitForReady(versionId, { since, idle, ms, instanceId }, signal);
    // Leased to this instance by the enqueue that found it waiting: its own, even if it stops now.
    // That enqueue already signalled what it left queued and told the reconciler.
    if (Array.isArray(woken)) return woken;
    if (signal?.aborted) {
      // Woken for work this claimer will not take: pass the wake-up on.
      if (woken) this.claimers.taskReady(versionId);
      return [];
    }
    return this.claimed(versionId, await this.store.tasks.claimTasks({ instanceId, limit, leaseMs: this.config.leaseMs }), limit);
  }

  /** Idle first: a busy instance leaves queued work to a waiting idle one, which is being woken for it. */
  private mayClaimNow(request: ClaimRequest): boolean {
    return request.running === 0 || !this.claimers.hasIdleWaiter(request.versionId);
  }

  private claimed(versionId: string, tasks: TaskRecord[], limit: number): TaskRecord[] {
    this.lifecycle.leased(versionId, tasks);
    // A full batch may have left work behind: wake the next waiter.
    if (tasks.length === limit) this.claimers.taskReady(versionId);
    return tasks;
  }

  async heartbeat(nodeId: string, held: HeldLeases[]): Promise<LeaseReport> {
    const state = await this.store.fleet.touchNode(nodeId);
    if (state !== 'READY') {
      throw new FerryError('NODE_LOST', `node ${nodeId} is ${state === null ? 'not registered' : 'declared lost'}: its agent must register again`);
    }
    const report: LeaseReport = { cancel: [], lost: [] };
    for (const h of held) {
      if (h.tasks.length === 0) continue;
      const r = await this.store.tasks.renewLeases(h.instanceId, h.tasks, this.config.leaseMs);
      report.cancel.push(...r.cancel);
      report.lost.push(...r.lost);
    }
    return report;
  }

  async progress(ref: TaskRef, progress: TaskProgress): Promise<void> {
    if (await this.store.tasks.reportProgress(ref, progress)) this.watchers.changed(ref.id);
  }

  async inputAssets(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>): Promise<AssetTransfer[]> {
    return this.assets.transfersFor(task.tenantId, (await this.runningAttempt(task)).inputAssets);
  }

  async createOutputAsset(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>, file: OutputFileTerms): Promise<{ id: string; uploadUrl: string }> {
    await this.runningAttempt(task);
    return this.assets.createOutput(task.tenantId, task.id, file);
  }

  private async runningAttempt(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>): Promise<TaskRecord> {
    const current = await this.store.tasks.getTask(task.tenantId, task.id);
    if (!current || current.attempt !== task.attempt || !isLeasedTask(current.status)) throw new FerryError('TASK_NOT_FOUND', `attempt ${task.attempt} of task ${task.id} is not running`);
    return current;
  }

  async logs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    if (lines.length === 0) return;
    await this.store.tasks.appendLogs(ref, lines);
    this.watchers.changed(ref.id);
  }

  async complete(ref: TaskRef, outcome: AttemptOutcome, next?: ClaimRequest): Promise<TaskRecord[]> {
    const claim = next && this.mayClaimNow(next) ? { instanceId: next.instanceId, limit: next.limit, leaseMs: this.config.leaseMs } : undefined;
    const result = await this.store.tasks.completeTask(ref, outcome, this.config.retryBaseMs, claim);
    if (result.accepted && result.task) this.lifecycle.moved([result.task]);
    return next ? this.claimed(next.versionId, result.claimed, next.limit) : [];
  }

  subscribe(nodeId: string, listener: AgentNotifications): () => void {
    const offAssignments = this.wakeups.on('assignments', (s) => s.nodeId === nodeId && listener.assignmentsChanged());
    const offCancel = this.wakeups.on('cancel', (s) => s.nodeId === nodeId && listener.cancel(s.ref));
    return () => {
      offAssignments();
      offCancel();
    };
  }
}
