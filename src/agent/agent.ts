import { join } from 'node:path';
import type { AgentProtocol } from '../core/agent-protocol.js';
import type { GpuDevice } from '../core/gpu-spec.js';
import { FerryError } from '../core/errors.js';
import type { LeaseReport, TaskRecord, TaskRef } from '../core/types.js';
import { type AssetFetch, AssetCache } from './asset-cache.js';
import { LocalInstance } from './local-instance.js';
import type { Runtime } from './runtimes/runtime.js';
import { TaskDirs } from './task-files.js';

export interface AgentConfig {
  nodeId: string;
  nodeName: string;
  gpus: GpuDevice[];
  /** Where instances and task files live on this node. */
  workDir: string;
  heartbeatMs: number;
  /** Fallback period for re-reading assignments; pushes normally arrive at once. */
  syncIntervalMs: number;
  claimWaitMs: number;
  logFlushMs: number;
  progressPollMs: number;
  /** Bytes of input assets the node keeps (least recently used go first). */
  assetCacheBytes: number;
  /** The control plane the relative URLs of Ferry-served blobs are on. */
  controlUrl: string;
  /** See ExecutorConfig.onTaskStarted. */
  onTaskStarted?: (task: TaskRecord) => void;
  /** Told of each input asset fetched: from the network or from the node's cache. */
  onAssetFetch?: (result: AssetFetch, sizeBytes: number) => void;
}

/**
 * The node agent: registers the node and its GPUs, keeps the instances the control plane placed
 * here running, pulls tasks for their free slots, renews leases by heartbeat and stops work the
 * control plane cancels or takes back.
 */
export class Agent {
  private readonly instances = new Map<string, LocalInstance>();
  private unsubscribe: (() => void) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private stopped = false;
  private rejoining: Promise<void> | null = null;
  private readonly taskDirs: TaskDirs;
  private readonly assets: AssetCache;

  constructor(
    private readonly protocol: AgentProtocol,
    private readonly runtimes: ReadonlyMap<string, Runtime>,
    private readonly config: AgentConfig,
    private readonly onError: (err: unknown) => void,
  ) {
    this.taskDirs = new TaskDirs(join(config.workDir, 'tasks'));
    this.assets = new AssetCache(join(config.workDir, 'assets'), config.assetCacheBytes, config.controlUrl, config.onAssetFetch);
  }

  async start(): Promise<void> {
    // Anything a crashed predecessor left running goes before this node says it is empty.
    for (const runtime of new Set(this.runtimes.values())) await runtime.reapLeftovers();
    await this.taskDirs.reset();
    await this.assets.start();
    await this.register();
    this.unsubscribe = this.protocol.subscribe(this.config.nodeId, {
      assignmentsChanged: () => this.sync(),
      cancel: (ref) => this.stopRun(ref, 'cancel'),
    });
    this.timers.push(setInterval(() => this.sync(), this.config.syncIntervalMs));
    // One heartbeat at a time: over HTTP a call may wait out an outage, and beats must not pile up.
    let beating: Promise<void> | null = null;
    this.timers.push(setInterval(() => void (beating ??= this.heartbeat().catch(this.onError).finally(() => (beating = null))), this.config.heartbeatMs));
    this.sync();
    await this.syncing;
  }

  /** Stops every instance (running tasks are taken back by the control plane). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    await this.syncing;
    await Promise.all([...this.instances.values()].map((i) => i.kill()));
  }

  /** Re-reads assignments; calls made while one runs fold into one more pass. */
  sync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.reconcile().catch(this.onError);
      } while (this.syncAgain && !this.stopped);
      this.syncing = null;
    })();
  }

  private async reconcile(): Promise<void> {
    const assignments = await this.protocol.assignments(this.config.nodeId);
    const wanted = new Set<string>();
    for (const a of assignments) {
      const { instance } = a;
      wanted.add(instance.id);
      const local = this.instances.get(instance.id);
      if (instance.state === 'DRAINING') {
        if (local) local.drain();
        else await this.protocol.instanceState(instance.id, 'STOPPED', 'drained before it started');
        continue;
      }
      if (local) continue;
      if (instance.state !== 'STARTING') {
        // Ready in the store but not running here: this agent lost it.
        await this.protocol.instanceState(instance.id, 'FAILED', 'not running on its node');
        continue;
      }
      const runtime = this.runtimes.get(a.version.spec.runtime.type);
      if (!runtime) {
        await this.protocol.instanceState(instance.id, 'FAILED', `runtime ${a.version.spec.runtime.type} is not available on node ${this.config.nodeName}`);
        continue;
      }
      const li = new LocalInstance(
        a,
        runtime,
        this.protocol,
        {
          instancesDir: join(this.config.workDir, 'instances'),
          taskDirs: this.taskDirs,
          assets: this.assets,
          controlUrl: this.config.controlUrl,
          claimWaitMs: this.config.claimWaitMs,
          logFlushMs: this.config.logFlushMs,
          progressPollMs: this.config.progressPollMs,
          onTaskStarted: this.config.onTaskStarted,
        },
        (id) => this.instances.delete(id),
        this.onError,
      );
      this.instances.set(instance.id, li);
      void li.start().catch(this.onError);
    }
    // Instances the control plane ended (stopped without draining, or failed) stop here too.
    for (const [id, li] of this.instances) if (!wanted.has(id)) await li.kill();
  }

  private register(): Promise<void> {
    return this.protocol.registerNode({ id: this.config.nodeId, name: this.config.nodeName, gpus: this.config.gpus });
  }

  private async heartbeat(): Promise<void> {
    if (this.rejoining) return;
    const held = [...this.instances.values()].map((i) => ({ instanceId: i.id, tasks: i.held }));
    let report: LeaseReport;
    try {
      report = await this.protocol.heartbeat(this.config.nodeId, held);
    } catch (err) {
      if (err instanceof FerryError && err.code === 'NODE_LOST') {
        this.rejoining ??= this.rejoin().finally(() => (this.rejoining = null));
        return this.rejoining;
      }
      throw err;
    }
    for (const ref of report.cancel) this.stopRun(ref, 'cancel');
    for (const ref of report.lost) this.stopRun(ref, 'lost');
  }

  /**
   * The control plane declared this node lost (it was cut off too long) and has replaced its
   * instances: whatever still runs here is stale. Stop it all, then register as a fresh node.
   */
  private async rejoin(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.kill()));
    if (this.stopped) return;
    await this.register();
    this.sync();
  }

  private stopRun(ref: TaskRef, reason: 'cancel' | 'lost'): void {
    for (const i of this.instances.values()) i.stopRun(ref, reason);
  }
}
