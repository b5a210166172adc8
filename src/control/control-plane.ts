import type { Clock } from '../core/clock.js';
import { type Leadership, type SignalBus, soleLeader } from '../core/replicas.js';
import type { Store } from '../store/store.js';
import { AgentGateway } from './agent-gateway.js';
import { AuthService } from './auth-service.js';
import type { ControlConfig } from './control-config.js';
import { DeploymentsService } from './deployments-service.js';
import { ControlEvents } from './events.js';
import { FleetService } from './fleet-service.js';
import { FunctionsService } from './functions-service.js';
import { LeaseReaper } from './lease-reaper.js';
import { Reconciler } from './reconciler.js';
import { StreamsService } from './streams-service.js';
import { TasksService } from './tasks-service.js';

export interface ControlPlaneOptions {
  clock: Clock;
  config: ControlConfig;
  runtimes: ReadonlySet<string>;
  onError: (err: unknown) => void;
  /** Other replicas on the same store (PostgreSQL); none for a single server. */
  bus?: SignalBus;
  leadership?: Leadership;
}

/**
 * The control plane's parts wired over one store: the services the API calls, the gateway
 * agents talk to (any number of nodes, in-process or remote), and the loops that keep
 * deployments and leases right, which run on the leader replica only.
 */
export class ControlPlane {
  readonly events: ControlEvents;
  readonly functions: FunctionsService;
  readonly deployments: DeploymentsService;
  readonly tasks: TasksService;
  readonly streams: StreamsService;
  readonly fleet: FleetService;
  readonly gateway: AgentGateway;
  readonly auth: AuthService;
  /** The clock leases are judged by (the database's, on PostgreSQL). */
  readonly clock: Clock;
  private readonly reconciler: Reconciler;
  private readonly reaper: LeaseReaper;
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
    this.events = new ControlEvents(options.bus ?? null);
    this.leadership = options.leadership ?? soleLeader;
    this.functions = new FunctionsService(store, clock, options.runtimes);
    this.reconciler = new Reconciler(store, this.events, clock, config, onError);
    this.deployments = new DeploymentsService(store, this.functions, this.events, clock);
    this.tasks = new TasksService(store, this.functions, this.events, clock, config.leaseMs);
    this.streams = new StreamsService(store, this.tasks, this.events, config.streamPollMs);
    this.fleet = new FleetService(store);
    this.gateway = new AgentGateway(store, this.events, clock, config);
    this.reaper = new LeaseReaper(store, this.gateway, this.events, clock, config, onError);
    this.auth = new AuthService(store, clock);
  }

  /** Whether this replica runs the reconciler and the reaper now. */
  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.leadership.start((leader) => {
      this.loops = this.loops.then(() => (leader ? this.startLoops() : this.stopLoops()));
    });
  }

  /** Stops the loops and leaves the election; the store stays open (its owner closes it). */
  async stop(): Promise<void> {
    await this.leadership.stop();
    this.loops = this.loops.then(() => this.stopLoops());
    await this.loops;
    this.gateway.stop();
  }

  private async startLoops(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    this.reconciler.start();
    this.reaper.start();
  }

  private async stopLoops(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.reconciler.stop();
    await this.reaper.stop();
  }
}
