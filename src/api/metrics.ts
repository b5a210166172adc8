import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControlPlane } from '../control/control-plane.js';
import { LIVE_INSTANCE_STATES, SERVING_DEPLOYMENT_STATES } from '../core/states.js';
import type { TaskRecord } from '../core/types.js';
import type { Store } from '../store/store.js';

/** Seconds: from a hand-off at once to a day-long job. */
const TASK_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600, 21_600, 86_400];
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/**
 * Ferry's Prometheus metrics (`GET /metrics`). Counters and histograms are fed as things happen
 * in this replica (each replica counts what it did, so sums across replicas are right); gauges of
 * the fleet (queues, instances, GPUs, nodes) are read from the store at each scrape, so every
 * replica reports the same fleet. Labels are bounded: function names, version numbers, states,
 * GPU types, node names, route templates; never a task id.
 */
export class FerryMetrics {
  readonly registry = new Registry();
  /** Names by id (functions, tenants) and version numbers, looked up once: they never change. */
  private readonly names = new Map<string, Promise<string>>();
  /** The labels of a function's task metrics, by function id, once read. */
  private readonly taskLabels = new Map<string, TaskLabels>();

  private readonly counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge({ name, help, labelNames, registers: [this.registry] });
  private readonly histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });

  private readonly submitted = this.counter('ferry_tasks_submitted_total', 'Tasks stored, by tenant and function.', ['tenant', 'function']);
  private readonly ended = this.counter('ferry_tasks_ended_total', 'Tasks that reached a final status, by tenant, function and status.', ['tenant', 'function', 'status']);
  private readonly queueWait = this.histogram(
    'ferry_task_queue_wait_seconds',
    'Time from a task becoming runnable (stored, or its retry due) to its lease, by tenant and function.',
    ['tenant', 'function'],
    TASK_BUCKETS,
  );
  private readonly runTime = this.histogram('ferry_task_run_seconds', 'Time from the lease of a task’s last attempt to its end, by tenant, function and final status.', ['tenant', 'function', 'status'], TASK_BUCKETS);
  private readonly assetFetches = this.counter('ferry_node_asset_fetches_total', 'Input assets handed to tasks on the local agent’s node, by whether they were downloaded or found in its cache.', ['result']);
  private readonly dispatch = this.histogram('ferry_task_dispatch_seconds', 'Time from a lease to the attempt reaching its instance on the local agent.', [], FAST_BUCKETS);
  readonly http = this.histogram('ferry_http_request_duration_seconds', 'HTTP requests served (not streams or long polls), by method, route template and status code.', ['method', 'route', 'status_code'], FAST_BUCKETS);
  private readonly storeLatency = this.histogram('ferry_store_operation_duration_seconds', 'Store calls, by operation.', ['operation'], FAST_BUCKETS);
  private readonly storeErrors = this.counter('ferry_store_errors_total', 'Store calls that failed, by operation.', ['operation']);

  private readonly queued = this.gauge('ferry_deployment_queued_tasks', 'Tasks waiting in a deployed version’s queue.', ['tenant', 'function', 'version']);
  private readonly running = this.gauge('ferry_deployment_running_tasks', 'Tasks leased to instances of a deployed version.', ['tenant', 'function', 'version']);
  private readonly deployments = this.gauge('ferry_deployments', 'Deployments by state.', ['state']);
  private readonly instances = this.gauge('ferry_instances', 'Live instances by tenant, function and state (BUSY: running tasks).', ['tenant', 'function', 'state']);
  private readonly gpus = this.gauge('ferry_gpus', 'GPUs on ready nodes, by type.', ['type']);
  private readonly gpusAllocated = this.gauge('ferry_gpus_allocated', 'GPUs held whole by an instance, by type.', ['type']);
  private readonly gpusShared = this.gauge('ferry_gpus_shared', 'GPUs shared by fractional instances, by type.', ['type']);
  private readonly nodeUp = this.gauge('ferry_node_up', '1 for a ready node, 0 for a node declared lost.', ['node', 'name']);
  private readonly nodeSilence = this.gauge('ferry_node_heartbeat_age_seconds', 'Time since a node’s agent was last heard from.', ['node', 'name']);

  constructor(private readonly control: ControlPlane) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names like counters, against Prometheus' naming rules (promtool refuses them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    control.taskObservers.add({
      submitted: (task) => this.withLabels(task, (labels) => this.submitted.inc(labels)),
      started: (task) => this.withLabels(task, (labels) => this.queueWait.observe(labels, seconds(task.startedAt! - task.runAt))),
      ended: (task) =>
        this.withLabels(task, (labels) => {
          this.ended.inc({ ...labels, status: task.status });
          if (task.startedAt !== null) this.runTime.observe({ ...labels, status: task.status }, seconds((task.finishedAt ?? task.startedAt) - task.startedAt));
        }),
    });
  }

  /** For the store's instrumentation (see instrumentStore). */
  readonly storeCall = (operation: string, secs: number, failed: boolean): void => {
    this.storeLatency.observe({ operation }, secs);
    if (failed) this.storeErrors.inc({ operation });
  };

  /** For the local agent: an input asset was handed to a task, downloaded or from the node's cache. */
  readonly assetFetched = (result: 'download' | 'hit'): void => {
    this.assetFetches.inc({ result });
  };

  /** For the local agent: an attempt reached its instance. */
  readonly taskDispatched = (task: TaskRecord): void => {
    if (task.startedAt !== null) this.dispatch.observe(seconds(this.control.clock.now() - task.startedAt));
  };

  /** Reads the fleet's gauges from the store, then renders every metric in the text format. */
  async render(): Promise<string> {
    await this.sampleFleet();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Reads everything first and only then replaces the gauges, without a wait in between, so a
   * scrape that runs alongside another never renders a gauge half filled.
   */
  private async sampleFleet(): Promise<void> {
    const store: Store = this.control.store;
    const [serving, allDeployments, live, gpuTypes, nodes, now] = await Promise.all([
      store.deployments.listDeployments({ states: [...SERVING_DEPLOYMENT_STATES] }),
      store.deployments.listDeployments({}),
      store.fleet.listInstances({ states: [...LIVE_INSTANCE_STATES] }),
      this.control.fleet.gpuTypes(),
      store.fleet.listNodes(),
      store.now(),
    ]);
    const loads = await Promise.all(
      serving.map(async (d) => ({ labels: { ...(await this.labelsOf(d)), version: await this.versionNumber(d.tenantId, d.versionId) }, load: await store.tasks.versionLoad(d.versionId) })),
    );
    const leased = await store.fleet.countLeasedTasks(live.map((i) => i.id));
    const instances = await Promise.all(
      live.map(async (i) => ({ labels: await this.labelsOf(i), state: i.state === 'IDLE' && (leased.get(i.id) ?? 0) > 0 ? 'BUSY' : i.state })),
    );

    this.queued.reset();
    this.running.reset();
    for (const { labels, load } of loads) {
      this.queued.set(labels, load.queued);
      this.running.set(labels, load.running);
    }
    this.deployments.reset();
    for (const d of allDeployments) this.deployments.inc({ state: d.state });
    this.instances.reset();
    for (const { labels, state } of instances) this.instances.inc({ ...labels, state });
    for (const g of [this.gpus, this.gpusAllocated, this.gpusShared]) g.reset();
    for (const t of gpuTypes) {
      this.gpus.set({ type: t.type }, t.total);
      this.gpusAllocated.set({ type: t.type }, t.allocated);
      this.gpusShared.set({ type: t.type }, t.shared);
    }
    this.nodeUp.reset();
    this.nodeSilence.reset();
    for (const n of nodes) {
      this.nodeUp.set({ node: n.id, name: n.name }, n.state === 'READY' ? 1 : 0);
      this.nodeSilence.set({ node: n.id, name: n.name }, seconds(now - n.lastSeenAt));
    }
  }

  /** Records at once once a function's labels are known (the dispatch path's case), else when they are read. */
  private withLabels(task: TaskRecord, record: (labels: TaskLabels) => void): void {
    const known = this.taskLabels.get(task.functionId);
    if (known) return record(known);
    this.labelsOf(task).then((labels) => {
      this.taskLabels.set(task.functionId, labels);
      record(labels);
    }, () => {});
  }

  /** Tenant and function names: a function's name is unique only within its tenant. */
  private async labelsOf(of: { tenantId: string; functionId: string }): Promise<TaskLabels> {
    const store = this.control.store;
    const [tenant, fn] = await Promise.all([
      this.lookup(of.tenantId, async () => (await store.tenants.getTenant(of.tenantId))?.name),
      this.lookup(of.functionId, async () => (await store.catalog.getFunction(of.tenantId, of.functionId))?.name),
    ]);
    return { tenant, function: fn };
  }

  private versionNumber(tenantId: string, versionId: string): Promise<string> {
    return this.lookup(versionId, async () => {
      const number = (await this.control.store.catalog.getVersion(tenantId, versionId))?.number;
      return number === undefined ? undefined : String(number);
    });
  }

  /** A name by id, read once (names never change); a failed read is tried again next time. */
  private lookup(id: string, read: () => Promise<string | undefined>): Promise<string> {
    let name = this.names.get(id);
    if (!name) {
      name = read().then((n) => n ?? id);
      name.catch(() => this.names.delete(id));
      this.names.set(id, name);
    }
    return name;
  }
}

interface TaskLabels {
  tenant: string;
  function: string;
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
