import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { AgentGateway } from './agent-gateway.js';
import { AuthService } from './auth-service.js';
import type { ControlConfig } from './control-config.js';
import { DeploymentsService } from './deployments-service.js';
import { ControlEvents } from './events.js';
import { FunctionsService } from './functions-service.js';
import { LeaseReaper } from './lease-reaper.js';
import { Reconciler } from './reconciler.js';
import { TasksService } from './tasks-service.js';

/**
 * The control plane's parts wired over one store: the services the API calls, the gateway
 * agents talk to (any number of nodes, in-process or remote), and the loops that keep
 * deployments and leases right.
 */
export class ControlPlane {
  readonly events = new ControlEvents();
  readonly functions: FunctionsService;
  readonly deployments: DeploymentsService;
  readonly tasks: TasksService;
  readonly gateway: AgentGateway;
  readonly auth: AuthService;
  private readonly reconciler: Reconciler;
  private readonly reaper: LeaseReaper;

  constructor(
    readonly store: Store,
    options: { clock: Clock; config: ControlConfig; runtimes: ReadonlySet<string>; onError: (err: unknown) => void },
  ) {
    const { clock, config, onError } = options;
    this.functions = new FunctionsService(store, clock, options.runtimes);
    this.reconciler = new Reconciler(store, this.events, clock, config, onError);
    this.deployments = new DeploymentsService(store, this.functions, this.reconciler, this.events, clock);
    this.tasks = new TasksService(store, this.functions, this.events, clock, config.leaseMs);
    this.gateway = new AgentGateway(store, this.events, this.reconciler, clock, config);
    this.reaper = new LeaseReaper(store, this.gateway, this.events, config.reaperIntervalMs, onError);
    this.auth = new AuthService(store, clock);
  }

  start(): void {
    this.reconciler.start();
    this.reaper.start();
  }

  /** Stops the loops; the store stays open (its owner closes it). */
  async stop(): Promise<void> {
    await this.reconciler.stop();
    await this.reaper.stop();
    this.gateway.stop();
  }
}
