import type { Clock } from '../core/clock.js';
import { FerryError, invalid } from '../core/errors.js';
import { LIVE_INSTANCE_STATES, isServingDeployment, type InstanceState } from '../core/states.js';
import type { DeploymentEvent, DeploymentRecord, InstanceRecord, LoadSample, ScalingSettings } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { QueueCounts } from '../store/task-queue.js';
import { recordDeploymentEvent } from './deployment-events.js';
import type { FunctionsService } from './functions-service.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { Wakeups } from './wakeups/wakeups.js';

/** An instance as the API shows it: BUSY is derived from its leased tasks. */
export type InstanceView = Omit<InstanceRecord, 'state'> & { state: InstanceState; activeTasks: number };

export interface DeploymentView extends DeploymentRecord {
  instances: InstanceView[];
  events: DeploymentEvent[];
}

export interface QueueView extends QueueCounts {
  functionId: string;
  versionId?: string;
  /** Live instances per state. */
  instances: Partial<Record<InstanceState, number>>;
}

export const DEFAULT_SCALING: ScalingSettings = {
  minInstances: 0,
  maxInstances: 1,
  targetPerInstance: 1,
  scaleDownDelaySeconds: 60,
  scaleToZeroAfterSeconds: 300,
};

/** Placing versions on the fleet: deploy, update, read with instances, undeploy. */
export class DeploymentsService {
  constructor(
    private readonly store: Pick<Store, 'deployments' | 'fleet' | 'tasks'>,
    private readonly functions: FunctionsService,
    private readonly wakeups: Wakeups,
    private readonly lifecycle: TaskLifecycle,
    private readonly clock: Clock,
  ) {}

  /**
   * A version's load over time (queued, running, serving and desired instances), as its
   * autoscaler sampled it, from `since` on: at most `limit` samples, the newest.
   */
  async timeline(tenantId: string, functionIdOrName: string, versionId: string, since: number, limit: number): Promise<{ functionId: string; versionId: string; samples: LoadSample[] }> {
    const { function: fn, version } = await this.functions.getVersion(tenantId, functionIdOrName, versionId);
    return { functionId: fn.id, versionId: version.id, samples: await this.store.deployments.listLoadSamples(version.id, since, limit) };
  }

  /** Deploys a version, or updates a deployment's settings live. */
  async put(tenantId: string, functionIdOrName: string, versionId: string, input: Partial<ScalingSettings>): Promise<{ deployment: DeploymentView; created: boolean }> {
    const { function: fn, version } = await this.functions.getVersion(tenantId, functionIdOrName, versionId);
    const existing = await this.store.deployments.getDeployment(tenantId, version.id);
    const base = existing && isServingDeployment(existing.state) ? existing : DEFAULT_SCALING;
    const settings: ScalingSettings = {
      minInstances: input.minInstances ?? base.minInstances,
      maxInstances: input.maxInstances ?? Math.max(base.maxInstances, input.minInstances ?? 0),
      targetPerInstance: input.targetPerInstance ?? base.targetPerInstance,
      scaleDownDelaySeconds: input.scaleDownDelaySeconds ?? base.scaleDownDelaySeconds,
      scaleToZeroAfterSeconds: input.scaleToZeroAfterSeconds ?? base.scaleToZeroAfterSeconds,
    };
    if (settings.maxInstances < settings.minInstances) throw invalid(`maxInstances: ${settings.maxInstances} is below minInstances ${settings.minInstances}`);
    if (settings.maxInstances < 1) throw invalid('maxInstances: must be at least 1');
    const now = this.clock.now();
    const serving = existing !== null && isServingDeployment(existing.state);
    const state = serving ? existing.state : settings.minInstances > 0 ? 'DEPLOYING' : 'ACTIVE';
    await this.store.deployments.putDeployment({
      tenantId,
      functionId: fn.id,
      versionId: version.id,
      state,
      reason: serving ? existing.reason : null,
      ...settings,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    if (!serving) {
      this.wakeups.emit({ kind: 'deployment-reset', versionId: version.id });
      await recordDeploymentEvent(this.store, this.wakeups, { versionId: version.id, at: now, kind: 'deployment', subject: version.id, from: existing?.state ?? null, to: state, reason: 'deployed' });
    }
    this.wakeups.emit({ kind: 'version', versionId: version.id });
    return { deployment: await this.view(tenantId, version.id), created: !serving };
  }

  async get(tenantId: string, functionIdOrName: string, versionId: string): Promise<DeploymentView> {
    const { version } = await this.functions.getVersion(tenantId, functionIdOrName, versionId);
    return this.view(tenantId, version.id);
  }

  /**
   * Undeploys a version. Every instance drains: it takes no new task and stops when it has none.
   * Graceful: running tasks finish first. Otherwise they are re-queued or cancelled at once and
   * their processes told to stop, so the instances stop within their grace period. Either way an
   * instance's GPUs are free only once its agent reports it stopped, never while its process may
   * still hold device memory. Queued tasks stay queued until a redeploy or their expiry.
   */
  async undeploy(tenantId: string, functionIdOrName: string, versionId: string, options: { graceful: boolean; running: 'requeue' | 'cancel' }): Promise<DeploymentView> {
    const { version } = await this.functions.getVersion(tenantId, functionIdOrName, versionId);
    const deployment = await this.store.deployments.getDeployment(tenantId, version.id);
    if (!deployment) throw new FerryError('DEPLOYMENT_NOT_FOUND', `version ${version.number} of this function is not deployed`);
    const now = this.clock.now();
    if (isServingDeployment(deployment.state)) {
      await this.store.deployments.setDeploymentState(version.id, [deployment.state], 'INACTIVE', options.graceful ? 'undeployed (draining)' : 'undeployed');
      await recordDeploymentEvent(this.store, this.wakeups, { versionId: version.id, at: now, kind: 'deployment', subject: version.id, from: deployment.state, to: 'INACTIVE', reason: 'undeployed' });
    }
    this.wakeups.emit({ kind: 'deployment-reset', versionId: version.id });
    const live = await this.store.fleet.listInstances({ versionId: version.id, states: [...LIVE_INSTANCE_STATES] });
    if (!options.graceful) {
      const nodeOf = new Map(live.map((i) => [i.id, i.nodeId]));
      const released = await this.store.tasks.releaseInstanceTasks([...nodeOf.keys()], options.running);
      this.lifecycle.moved(released.map((r) => r.task));
      for (const r of released) {
        const nodeId = nodeOf.get(r.taken.instanceId ?? '');
        if (nodeId) this.lifecycle.stopAttempt(nodeId, { id: r.task.id, attempt: r.taken.attempt });
      }
    }
    for (const i of live) {
      if (i.state === 'DRAINING') continue;
      if (await this.store.fleet.moveInstance(i.id, [i.state], 'DRAINING', options.graceful ? 'undeployed' : 'undeployed: stopping now')) {
        await recordDeploymentEvent(this.store, this.wakeups, { versionId: version.id, at: now, kind: 'instance', subject: i.id, from: i.state, to: 'DRAINING', reason: 'undeployed' });
        this.wakeups.emit({ kind: 'assignments', nodeId: i.nodeId });
      }
    }
    return this.view(tenantId, version.id);
  }

  /** Queue length and live instances per state of a function, or of one of its versions. */
  async queue(tenantId: string, functionIdOrName: string, versionId?: string): Promise<QueueView> {
    const scope = versionId
      ? await this.functions.getVersion(tenantId, functionIdOrName, versionId).then(({ function: fn, version }) => ({ functionId: fn.id, versionId: version.id }))
      : { functionId: (await this.functions.get(tenantId, functionIdOrName)).id };
    const counts = await this.store.tasks.queueCounts({ tenantId, ...scope });
    const instances: QueueView['instances'] = {};
    for (const i of await this.instances(tenantId, { ...scope, live: true })) instances[i.state] = (instances[i.state] ?? 0) + 1;
    return { ...scope, ...counts, instances };
  }

  /** Instances of a tenant, optionally of one function or version, with BUSY derived. */
  async instances(tenantId: string, filter: { functionId?: string; versionId?: string; live?: boolean } = {}): Promise<InstanceView[]> {
    const list = await this.store.fleet.listInstances({ tenantId, functionId: filter.functionId, versionId: filter.versionId, states: filter.live ? [...LIVE_INSTANCE_STATES] : undefined });
    const leased = await this.store.fleet.countLeasedTasks(list.map((i) => i.id));
    return list.map((i) => {
      const activeTasks = leased.get(i.id) ?? 0;
      return { ...i, state: i.state === 'IDLE' && activeTasks > 0 ? 'BUSY' : i.state, activeTasks };
    });
  }

  private async view(tenantId: string, versionId: string): Promise<DeploymentView> {
    const deployment = await this.store.deployments.getDeployment(tenantId, versionId);
    if (!deployment) throw new FerryError('DEPLOYMENT_NOT_FOUND', `version ${versionId} is not deployed`);
    const all = await this.instances(tenantId, { versionId });
    // Ended instances are history; keep the last few so a crash loop's reasons stay visible.
    const ended = all.filter((i) => i.state === 'STOPPED' || i.state === 'FAILED').slice(-10);
    const instances = [...all.filter((i) => i.state !== 'STOPPED' && i.state !== 'FAILED'), ...ended];
    return { ...deployment, instances, events: await this.store.deployments.listDeploymentEvents(versionId, 50) };
  }
}
