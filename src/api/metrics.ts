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
  /** Function id → name, filled as tasks are seen; names never change. */
  private readonly functionNames = new Map<string, Promise<string>>();
  private readonly versionNumbers = new Map<string, Promise<string>>();

  private readonly counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge({ name, help, labelNames, registers: [this.registry] });
  private readonly histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });

  private readonly submitted = this.counter('ferry_tasks_submitted_total', 'Tasks stored, by function.', ['function']);
  private readonly ended = this.counter('ferry_tasks_ended_total', 'Tasks that reached a final status, by function and status.', ['function', 'status']);
  private readonly queueWait = this.histogram('ferry_task_queue_wait_seconds', 'Time from a task becoming runnable (stored, or its retry due) to its lease, by function.', ['function'], TASK_BUCKETS);
  private readonly runTime = this.histogram('ferry_task_run_seconds', 'Time from the lease of a task’s last attempt to its end, by function and final status.', ['function', 'status'], TASK_BUCKETS);
  private readonly dispatch = this.histogram('ferry_task_dispatch_seconds', 'Time from a lease to the attempt reaching its instance on the local agent.', [], FAST_BUCKETS);
  readonly http = this.histogram('ferry_http_request_duration_seconds', 'HTTP requests served, by method, route template and status code.', ['method', 'route', 'status_code'], FAST_BUCKETS);
  private readonly storeLatency = this.histogram('ferry_store_operation_duration_seconds', 'Store calls, by operation.', ['operation'], FAST_BUCKETS);
  private readonly storeErrors = this.counter('ferry_store_errors_total', 'Store calls that failed, by operation.', ['operation']);

  private readonly queued = this.gauge('ferry_deployment_queued_tasks', 'Tasks waiting in a deployed version’s queue.', ['function', 'version']);
  private readonly running = this.gauge('ferry_deployment_running_tasks', 'Tasks leased to instances of a deployed version.', ['function', 'version']);
  private readonly deployments = this.gauge('ferry_deployments', 'Deployments by state.', ['state']);
  private readonly instances = this.gauge('ferry_instances', 'Live instances by function and state (BUSY: running tasks).', ['function', 'state']);
  private readonly gpus = this.gauge('ferry_gpus', 'GPUs on ready nodes, by type.', ['type']);
  private readonly gpusAllocated = this.gauge('ferry_gpus_allocated', 'GPUs held whole by an instance, by type.', ['type']);
  private readonly gpusShared = this.gauge('ferry_gpus_shared', 'GPUs shared by fractional instances, by type.', ['type']);
  private readonly nodeUp = this.gauge('ferry_node_up', '1 for a ready node, 0 for a node declared lost.', ['node']);
  private readonly nodeSilence = this.gauge('ferry_node_heartbeat_age_seconds', 'Time since a node’s agent was last heard from.', ['node']);

  constructor(private readonly control: ControlPlane) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names like counters, against Prometheus' naming rules (promtool refuses them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    control.events.observeTasks({
      submitted: (task) => this.withFunction(task, (fn) => this.submitted.inc({ function: fn })),
      started: (task) => this.withFunction(task, (fn) => this.queueWait.observe({ function: fn }, seconds(task.startedAt! - task.runAt))),
      ended: (task) =>
        this.withFunction(task, (fn) => {
          this.ended.inc({ function: fn, status: task.status });
          if (task.startedAt !== null) this.runTime.observe({ function: fn, status: task.status }, seconds((task.finishedAt ?? task.startedAt) - task.startedAt));
        }),
    });
  }

  /** For the store's instrumentation (see instrumentStore). */
  readonly storeCall = (operation: string, secs: number, failed: boolean): void => {
    this.storeLatency.observe({ operation }, secs);
    if (failed) this.storeErrors.inc({ operation });
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

  private async sampleFleet(): Promise<void> {
    const store: Store = this.control.store;
    const [serving, allDeployments, live, gpuTypes, nodes, now] = await Promise.all([
      store.listDeployments({ states: [...SERVING_DEPLOYMENT_STATES] }),
      store.listDeployments({}),
      store.listInstances({ states: [...LIVE_INSTANCE_STATES] }),
      this.control.fleet.gpuTypes(),
      store.listNodes(),
      store.now(),
    ]);
    this.queued.reset();
    this.running.reset();
    for (const d of serving) {
      const load = await store.versionLoad(d.versionId);
      const labels = { function: await this.functionName(d.tenantId, d.functionId), version: await this.versionNumber(d.tenantId, d.versionId) };
      this.queued.set(labels, load.queued);
      this.running.set(labels, load.running);
    }
    this.deployments.reset();
    for (const d of allDeployments) this.deployments.inc({ state: d.state });
    this.instances.reset();
    const leased = await store.countLeasedTasks(live.map((i) => i.id));
    for (const i of live) {
      const state = i.state === 'IDLE' && (leased.get(i.id) ?? 0) > 0 ? 'BUSY' : i.state;
      this.instances.inc({ function: await this.functionName(i.tenantId, i.functionId), state });
    }
    for (const g of [this.gpus, this.gpusAllocated, this.gpusShared]) g.reset();
    for (const t of gpuTypes) {
      this.gpus.set({ type: t.type }, t.total);
      this.gpusAllocated.set({ type: t.type }, t.allocated);
      this.gpusShared.set({ type: t.type }, t.shared);
    }
    this.nodeUp.reset();
    this.nodeSilence.reset();
    for (const n of nodes) {
      this.nodeUp.set({ node: n.name }, n.state === 'READY' ? 1 : 0);
      this.nodeSilence.set({ node: n.name }, seconds(now - n.lastSeenAt));
    }
  }

  private withFunction(task: TaskRecord, record: (name: string) => void): void {
    this.functionName(task.tenantId, task.functionId).then(record, () => {});
  }

  private functionName(tenantId: string, functionId: string): Promise<string> {
    let name = this.functionNames.get(functionId);
    if (!name) {
      name = this.control.store.getFunction(tenantId, functionId).then((f) => f?.name ?? functionId);
      // A failed read is tried again next time rather than remembered.
      name.catch(() => this.functionNames.delete(functionId));
      this.functionNames.set(functionId, name);
    }
    return name;
  }

  private versionNumber(tenantId: string, versionId: string): Promise<string> {
    let number = this.versionNumbers.get(versionId);
    if (!number) {
      number = this.control.store.getVersion(tenantId, versionId).then((v) => String(v?.number ?? versionId));
      number.catch(() => this.versionNumbers.delete(versionId));
      this.versionNumbers.set(versionId, number);
    }
    return number;
  }
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
