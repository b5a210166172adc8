import type { Clock } from '../core/clock.js';
import { LIVE_INSTANCE_STATES, isServingDeployment, type DeploymentState, type StoredInstanceState } from '../core/states.js';
import { ID_PREFIX, newId } from '../core/ids.js';
import type { DeploymentRecord, InstanceRecord, VersionRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { ControlConfig } from './control-config.js';
import type { Wakeups } from './wakeups/wakeups.js';
import { recordDeploymentEvent } from './deployment-events.js';
import { LoadSampler } from './load-sampler.js';
import { placeInstance } from './placement.js';
import { FRESH_SCALING_MEMORY, decideScale, type ScalingMemory } from './scaling-policy.js';

/** Shortest time between two passes over one version. */
const MIN_PASS_GAP_MS = 20;

interface FailureRecord {
  count: number;
  lastAt: number;
  reason: string;
}

/**
 * Keeps each serving deployment's instances where the scaling policy wants them: places new
 * instances on nodes, drains surplus ones (idle first), replaces failed ones with back-off, and
 * moves the deployment's state. It runs on every relevant event and on a fallback period; one
 * pass at a time, so two passes never place the same instance twice.
 */
export class Reconciler {
  private readonly memory = new Map<string, ScalingMemory>();
  /** The last desired count decided per version, so each decision is recorded once. */
  private readonly decided = new Map<string, number>();
  private readonly failures = new Map<string, FailureRecord>();
  private readonly versions = new Map<string, VersionRecord>();
  private readonly dirty = new Set<string>();
  /**
   * One deferred pass per version, at the earliest time any asked for it: the end of the minimum
   * gap, of a failing version's restart back-off, or of a scale-down window. A pass that still
   * needs a later one asks again.
   */
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly lastPass = new Map<string, number>();
  /** Versions with instances that found no room: a pass over them when capacity frees up. */
  private readonly pending = new Set<string>();
  private running: Promise<void> | null = null;
  private readonly loads: LoadSampler;
  private interval: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly store: Pick<Store, 'catalog' | 'deployments' | 'fleet' | 'tasks'>,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
    private readonly config: ControlConfig,
    private readonly onError: (err: unknown) => void,
  ) {
    this.loads = new LoadSampler(store, config.loadSampleMs);
  }

  start(): void {
    this.unsubscribe = [
      this.wakeups.on('version', (s) => this.schedule(s.versionId)),
      this.wakeups.on('instance-ready', (s) => this.failures.delete(s.versionId)),
      this.wakeups.on('instance-failed', (s) => this.noteFailure(s.versionId, s.reason)),
      this.wakeups.on('capacity', () => this.capacityChanged()),
      this.wakeups.on('deployment-reset', (s) => this.forget(s.versionId)),
    ];
    this.interval = setInterval(() => void this.scheduleAll(), this.config.reconcileIntervalMs);
    void this.scheduleAll();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.interval) clearInterval(this.interval);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.dirty.clear();
    await this.running;
  }

  /**
   * Asks for a pass over a version: at once, unless an event started one in the last few
   * milliseconds, in which case one pass at the end of that gap covers every event in between.
   * Under a stream of enqueues and completions this keeps the reconciler off the per-task path,
   * while a burst's first enqueue still scales up at once.
   */
  schedule(versionId: string): void {
    const wait = (this.lastPass.get(versionId) ?? 0) + MIN_PASS_GAP_MS - this.clock.now();
    if (wait > 0) return this.passAfter(versionId, wait);
    this.lastPass.set(versionId, this.clock.now());
    this.dirty.add(versionId);
    this.running ??= this.drain();
  }

  /** An instance of the version failed to start or crashed: replacements back off. */
  private noteFailure(versionId: string, reason: string): void {
    const prev = this.failures.get(versionId);
    this.failures.set(versionId, { count: (prev?.count ?? 0) + 1, lastAt: this.clock.now(), reason });
  }

  /** A node joined or an instance ended: deployments waiting for room try again. */
  private capacityChanged(): void {
    for (const versionId of this.pending) this.schedule(versionId);
  }

  /** Forgets a version's scaling memory (a fresh deploy or an undeploy). */
  private forget(versionId: string): void {
    this.memory.delete(versionId);
    this.decided.delete(versionId);
    this.pending.delete(versionId);
    this.lastPass.delete(versionId);
    this.failures.delete(versionId);
    this.loads.forget(versionId);
  }

  private async scheduleAll(): Promise<void> {
    try {
      for (const d of await this.store.deployments.listDeployments({ states: ['DEPLOYING', 'ACTIVE', 'DEGRADED', 'ERROR'] })) this.dirty.add(d.versionId);
      this.running ??= this.drain();
      await this.loads.prune(this.clock.now());
    } catch (err) {
      this.onError(err);
    }
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.dirty.size > 0) {
        const batch = [...this.dirty];
        this.dirty.clear();
        for (const versionId of batch) {
          try {
            await this.reconcile(versionId);
          } catch (err) {
            this.onError(err);
          }
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async reconcile(versionId: string): Promise<void> {
    const [deployment] = await this.store.deployments.listDeployments({ versionId });
    if (!deployment || !isServingDeployment(deployment.state)) return;
    const version = await this.version(deployment);
    if (!version) return;
    const now = this.clock.now();
    const live = await this.store.fleet.listInstances({ versionId, states: [...LIVE_INSTANCE_STATES] });
    const serving = live.filter((i) => i.state !== 'DRAINING');
    const counts = await this.store.tasks.versionLoad(versionId);
    const memory = this.memory.get(versionId) ?? FRESH_SCALING_MEMORY;
    const decision = decideScale({ queued: counts.queued, running: counts.running, current: serving.length, settings: deployment, now, memory });
    this.memory.set(versionId, decision.memory);
    if (decision.recheckAt !== null) this.passAfter(versionId, decision.recheckAt - now);
    // One event per decision: a count that cannot be placed yet is not recorded again on every pass.
    if (decision.desired !== serving.length && decision.desired !== this.decided.get(versionId)) {
      await this.event(versionId, 'scaling', versionId, String(serving.length), String(decision.desired), `queued ${counts.queued}, running ${counts.running}`);
    }

    this.decided.set(versionId, decision.desired);
    let pending: string | null = null;
    if (decision.desired > serving.length) {
      pending = await this.scaleUp(deployment, version, decision.desired - serving.length, now);
    } else if (decision.desired < serving.length) {
      await this.scaleIn(deployment, serving, serving.length - decision.desired);
    }
    if (pending) this.pending.add(versionId);
    else this.pending.delete(versionId);
    await this.updateState(deployment, live, decision.desired, pending);
    // Last, and on its own: a timeline sample that cannot be written never holds scaling up.
    await this.loads.observe({ versionId, at: now, queued: counts.queued, running: counts.running, instances: serving.length, desired: decision.desired }).catch(this.onError);
  }

  /** Places up to `count` new instances; returns why some could not be placed, if so. */
  private async scaleUp(deployment: DeploymentRecord, version: VersionRecord, count: number, now: number): Promise<string | null> {
    const failure = this.failures.get(deployment.versionId);
    if (failure) {
      const wait = failure.lastAt + Math.min(30_000, this.config.restartBaseMs * 2 ** (failure.count - 1)) - now;
      if (wait > 0) {
        this.passAfter(deployment.versionId, wait);
        return null;
      }
    }
    const nodes = await this.store.fleet.listNodes();
    const allocations = (await this.store.fleet.listInstances({ states: [...LIVE_INSTANCE_STATES] })).map((i) => ({ nodeId: i.nodeId, gpus: i.gpus }));
    for (let k = 0; k < count; k++) {
      const placement = placeInstance(version.spec.resources, nodes, allocations);
      if ('reason' in placement) return `${count - k} instance(s) pending: ${placement.reason}`;
      const instance: InstanceRecord = {
        id: newId(ID_PREFIX.instance, now),
        tenantId: deployment.tenantId,
        functionId: deployment.functionId,
        versionId: deployment.versionId,
        nodeId: placement.nodeId,
        state: 'STARTING',
        gpus: placement.gpus,
        reason: null,
        createdAt: now,
        readyAt: null,
        endedAt: null,
      };
      await this.store.fleet.createInstance(instance);
      allocations.push(placement);
      await this.event(deployment.versionId, 'instance', instance.id, null, 'STARTING', `scale-up: placed on ${placement.nodeId}`);
      this.wakeups.emit({ kind: 'assignments', nodeId: placement.nodeId });
    }
    return null;
  }

  /** Drains `count` instances: idle ones first, then starting ones, busy ones last; newest first. */
  private async scaleIn(deployment: DeploymentRecord, serving: InstanceRecord[], count: number): Promise<void> {
    const leased = await this.store.fleet.countLeasedTasks(serving.map((i) => i.id));
    const rank = (i: InstanceRecord): number => (i.state === 'IDLE' && leased.get(i.id) === 0 ? 0 : i.state === 'STARTING' ? 1 : 2);
    const victims = [...serving].sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt).slice(0, count);
    for (const v of victims) {
      const moved = await this.store.fleet.moveInstance(v.id, [v.state as StoredInstanceState], 'DRAINING', 'scale-in');
      if (!moved) continue;
      await this.event(deployment.versionId, 'instance', v.id, v.state, 'DRAINING', rank(v) === 2 ? 'scale-in: busy, stops after its tasks' : 'scale-in');
      this.wakeups.emit({ kind: 'assignments', nodeId: v.nodeId });
    }
  }

  private async updateState(deployment: DeploymentRecord, live: InstanceRecord[], desired: number, pending: string | null): Promise<void> {
    const ready = live.some((i) => i.state === 'IDLE');
    const failure = this.failures.get(deployment.versionId);
    let state: DeploymentState = deployment.state;
    let reason = pending;
    if (failure && failure.count >= this.config.maxStartFailures) {
      state = ready ? 'DEGRADED' : 'ERROR';
      reason = `instances keep failing (${failure.count} in a row): ${failure.reason}`;
    } else if (ready || desired === 0) {
      state = 'ACTIVE';
    } else if (deployment.state !== 'ACTIVE') {
      state = 'DEPLOYING';
    }
    if (state === deployment.state && reason === deployment.reason) return;
    if (await this.store.deployments.setDeploymentState(deployment.versionId, [deployment.state], state, reason)) {
      if (state !== deployment.state) await this.event(deployment.versionId, 'deployment', deployment.versionId, deployment.state, state, reason ?? 'reconciled');
    }
  }

  /** One pass over the version after `ms`, unless one is already due by then. */
  private passAfter(versionId: string, ms: number): void {
    const at = this.clock.now() + ms;
    const pending = this.timers.get(versionId);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(versionId);
      this.dirty.add(versionId);
      this.running ??= this.drain();
    }, ms);
    this.timers.set(versionId, { at, timer });
  }

  private async version(deployment: DeploymentRecord): Promise<VersionRecord | null> {
    let v = this.versions.get(deployment.versionId);
    if (!v) {
      v = (await this.store.catalog.getVersion(deployment.tenantId, deployment.versionId)) ?? undefined;
      if (v) this.versions.set(v.id, v);
    }
    return v ?? null;
  }

  private event(versionId: string, kind: 'deployment' | 'instance' | 'scaling', subject: string, from: string | null, to: string, reason: string): Promise<void> {
    return recordDeploymentEvent(this.store, this.wakeups, { versionId, at: this.clock.now(), kind, subject, from, to, reason });
  }
}
