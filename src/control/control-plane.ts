import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../core/clock.js';
import { type Leadership, type SignalBus, soleLeader } from '../core/replicas.js';
import type { BrokerKind, TriggerRecord } from '../core/triggers.js';
import type { Store } from '../store/store.js';
import { AgentGateway } from './agent-gateway.js';
import { AssetSweeper } from './assets/asset-sweeper.js';
import { AuditLog } from './audit-log.js';
import { AssetsService } from './assets/assets-service.js';
import { AuthService } from './auth-service.js';
import type { ControlConfig } from './control-config.js';
import { DeploymentsService } from './deployments-service.js';
import { DeliveryWorker, type Publish } from './destinations/delivery-worker.js';
import { DestinationsSubscriber } from './destinations/destinations-subscriber.js';
import { WebhookSender } from './destinations/webhook-sender.js';
import { FleetService } from './fleet-service.js';
import { FunctionsService } from './functions-service.js';
import { LeaseReaper } from './lease-reaper.js';
import { OutcomeDispatcher, type OutcomeSubscriber } from './outcomes/outcome-dispatcher.js';
import { Reconciler } from './reconciler.js';
import { ServingCache } from './serving-cache.js';
import { StreamsService } from './streams-service.js';
import { TaskLifecycle } from './task-lifecycle.js';
import { TaskObservers } from './task-observers.js';
import { TasksService } from './tasks-service.js';
import { AssetRunner } from './triggers/asset-runner.js';
import { BrokerRunner } from './triggers/broker-runner.js';
import { CronRunner } from './triggers/cron-runner.js';
import { type TriggerRunner, TriggerRunners } from './triggers/trigger-runners.js';
import { TriggersService } from './triggers/triggers-service.js';
import { ClaimWaiters } from './wakeups/claim-waiters.js';
import { ExecutionDriver } from './workflows/execution-driver.js';
import { MapItems } from './workflows/map-items.js';
import { WorkflowTimers } from './workflows/workflow-timers.js';
import { WorkflowsService } from './workflows/workflows-service.js';
import { WorkflowsSubscriber } from './workflows/workflows-subscriber.js';
import { TaskWatchers } from './wakeups/task-watchers.js';
import { Wakeups } from './wakeups/wakeups.js';

export interface ControlPlaneOptions {
  clock: Clock;
  config: ControlConfig;
  runtimes: ReadonlySet<string>;
  /** Where assets' bytes are kept. */
  blobs: BlobStore;
  onError: (err: unknown) => void;
  /** Other replicas on the same store (PostgreSQL); none for a single server. */
  bus?: SignalBus;
  leadership?: Leadership;
  /** Consumers of the outcome feed, run on the leader (besides the destinations'). */
  subscribers?: OutcomeSubscriber[];
  /** Sends a publish destination's message to its broker. */
  publish: Publish;
}

/**
 * The control plane's parts wired over one store: the services the API calls, the gateway
 * agents talk to (any number of nodes, in-process or remote), and the loops that keep
 * deployments, leases, the outcome feed's consumers, asset expiry and triggers going, which run on the leader replica only.
 */
export class ControlPlane {
  readonly wakeups: Wakeups;
  /** The observers of task moves made through this replica (metrics). */
  readonly taskObservers = new TaskObservers();
  readonly functions: FunctionsService;
  readonly deployments: DeploymentsService;
  readonly tasks: TasksService;
  readonly streams: StreamsService;
  readonly fleet: FleetService;
  readonly assets: AssetsService;
  readonly triggers: TriggersService;
  readonly workflows: WorkflowsService;
  readonly gateway: AgentGateway;
  readonly auth: AuthService;
  readonly audit: AuditLog;
  /** The clock leases are judged by (the database's, on PostgreSQL). */
  readonly clock: Clock;
  private readonly lifecycle: TaskLifecycle;
  private readonly reconciler: Reconciler;
  private readonly reaper: LeaseReaper;
  private readonly outcomes: OutcomeDispatcher;
  private readonly assetSweeper: AssetSweeper;
  private readonly triggerRunners: TriggerRunners;
  private readonly deliveries: DeliveryWorker;
  private readonly workflowTimers: WorkflowTimers;
  private readonly leadership: Leadership;
  /** Loop starts and stops in the order leadership changed. */
  private loops: Promise<void> = Promise.resolve();
  private leading = false;

  constructor(
    readonly store: Store,
    options: ControlPlaneOptions,
  ) {
    const { clock, config, onError } = options;
    this.clock = clock;
    const wakeups = (this.wakeups = new Wakeups(options.bus ?? null));
    const claimers = new ClaimWaiters(wakeups);
    const watchers = new TaskWatchers(wakeups);
    this.lifecycle = new TaskLifecycle(wakeups, claimers, watchers, this.taskObservers, clock);
    this.leadership = options.leadership ?? soleLeader;
    this.functions = new FunctionsService(store, clock, options.runtimes);
    this.reconciler = new Reconciler(store, wakeups, clock, config, onError);
    this.deployments = new DeploymentsService(store, this.functions, wakeups, this.lifecycle, clock);
    this.tasks = new TasksService(store, this.functions, claimers, watchers, this.lifecycle, new ServingCache(wakeups, clock), clock, config.leaseMs);
    this.streams = new StreamsService(store, this.tasks, watchers, wakeups, config.streamPollMs);
    this.fleet = new FleetService(store);
    this.assets = new AssetsService(store, options.blobs, clock);
    this.assetSweeper = new AssetSweeper(this.assets, config, onError);
    this.gateway = new AgentGateway(store, wakeups, claimers, watchers, this.lifecycle, clock, config, this.assets);
    this.reaper = new LeaseReaper(store, this.lifecycle, wakeups, clock, config, onError);
    this.outcomes = new OutcomeDispatcher(store, wakeups, clock, config, onError);
    const webhooks = new WebhookSender({ allowed: config.webhookAllowed, timeoutMs: config.webhookTimeoutMs, maxResponseBytes: 64 * 1024 });
    const executions = new ExecutionDriver(store, this.tasks, new MapItems(store, this.assets), wakeups, clock);
    this.workflows = new WorkflowsService(store, this.functions, executions, clock);
    this.deliveries = new DeliveryWorker(store, this.tasks, this.workflows, webhooks, options.publish, clock, config, onError);
    this.outcomes.subscribe(new DestinationsSubscriber(store, clock, () => this.deliveries.wake()));
    this.outcomes.subscribe(new WorkflowsSubscriber(store, executions, onError));
    this.workflowTimers = new WorkflowTimers(store, executions, wakeups, clock, config.workflowPollMs, onError);
    for (const s of options.subscribers ?? []) this.outcomes.subscribe(s);
    this.auth = new AuthService(store, clock);
    this.audit = new AuditLog(store, clock, config.auditRetentionMs, onError);
    const triggers = (this.triggers = new TriggersService(store, this.functions, this.tasks, this.workflows, wakeups, clock));
    const consumer = (t: TriggerRecord): TriggerRunner => new BrokerRunner(t as TriggerRecord & { kind: BrokerKind }, triggers, store, clock, { maxQueued: config.triggerMaxQueued }, onError);
    this.triggerRunners = new TriggerRunners(
      store,
      wakeups,
      { cron: (t) => new CronRunner(t as Extract<TriggerRecord, { kind: 'cron' }>, triggers, store, clock, onError), nats: consumer, redis: consumer, amqp: consumer, mqtt: consumer, asset: (t) => new AssetRunner(t as Extract<TriggerRecord, { kind: 'asset' }>, triggers, store, clock, onError) },
      config.triggerPollMs,
      onError,
    );
  }

  /** Whether this replica runs the reconciler, the reaper and the outcome feed's consumers now. */
  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.leadership.start((leader) => {
      this.loops = this.loops.then(() => (leader ? this.startLoops() : this.stopLoops()));
    });
  }

  /**
   * Stops the loops, then leaves the election, so the next leader starts only once this one's
   * work in hand is done (the outcome batch being handled is acknowledged, not handed out twice).
   * The store stays open (its owner closes it).
   */
  async stop(): Promise<void> {
    this.loops = this.loops.then(() => this.stopLoops());
    await this.loops;
    await this.leadership.stop();
    // A lead taken meanwhile started the loops again; leaving the election stopped them once more.
    await this.loops;
    this.lifecycle.stop();
  }

  private async startLoops(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    this.reconciler.start();
    this.reaper.start();
    this.outcomes.start();
    this.deliveries.start();
    this.assetSweeper.start();
    this.triggerRunners.start();
    this.workflowTimers.start();
    this.audit.start();
  }

  private async stopLoops(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.reconciler.stop();
    await this.reaper.stop();
    await this.outcomes.stop();
    await this.deliveries.stop();
    await this.assetSweeper.stop();
    await this.triggerRunners.stop();
    await this.workflowTimers.stop();
    await this.audit.stop();
  }
}
