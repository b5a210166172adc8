import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { ProcessRuntime } from '../../src/agent/runtimes/process/process-runtime.js';
import { DiskBlobStore } from '../../src/blobs/disk/disk-blob-store.js';
import { type ControlConfig, DEFAULT_CONTROL_CONFIG } from '../../src/control/control-config.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { systemClock } from '../../src/core/clock.js';
import { parseGpuSpec } from '../../src/core/gpu-spec.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * A control plane over a SQLite store in a temp dir, with any number of in-process agents, each
 * its own node with a declared GPU inventory and its own process runtime. For placement and
 * scaling across several nodes before agents can be remote.
 */
export class InProcessFleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  readonly store = new SqliteStore({ path: join(this.dir, 'ferry.db'), synchronous: 'normal', clock: systemClock });
  readonly control: ControlPlane;
  readonly errors: unknown[] = [];
  tenantId = '';
  private readonly agents: Agent[] = [];

  constructor(config: Partial<ControlConfig> = {}) {
    this.control = new ControlPlane(this.store, {
      clock: systemClock,
      config: { ...DEFAULT_CONTROL_CONFIG, leaseMs: 3_000, reaperIntervalMs: 200, nodeLostMs: 10_000, reconcileIntervalMs: 300, retryBaseMs: 100, restartBaseMs: 100, ...config },
      runtimes: new Set(['process']),
      blobs: new DiskBlobStore(join(this.dir, 'blobs'), randomBytes(32), systemClock),
      onError: (err) => this.errors.push(err),
      publish: async () => {
        throw new Error('this fleet publishes to no broker');
      },
    });
  }

  async start(): Promise<this> {
    const adminKey = await this.control.auth.bootstrap();
    this.tenantId = (await this.control.auth.authenticate(`Bearer ${adminKey}`)).tenantId;
    this.control.start();
    return this;
  }

  /** Starts an agent for a new node with the declared inventory, e.g. `1xA100:81920`. */
  async addNode(name: string, gpus: string): Promise<string> {
    const nodeId = `node_${name}`;
    const workDir = join(this.dir, name);
    const agent = new Agent(
      this.control.gateway,
      new Map([['process', new ProcessRuntime(workDir)]]),
      { nodeId, nodeName: name, gpus: parseGpuSpec(gpus), workDir, heartbeatMs: 500, syncIntervalMs: 500, claimWaitMs: 1_000, logFlushMs: 50, progressPollMs: 50, assetCacheBytes: 1024 ** 3, controlUrl: 'http://127.0.0.1:1' },
      (err) => this.errors.push(err),
    );
    await agent.start();
    this.agents.push(agent);
    return nodeId;
  }

  async dispose(): Promise<void> {
    for (const agent of this.agents) await agent.stop();
    await this.control.stop();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
