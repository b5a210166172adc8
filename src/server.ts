import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Agent } from './agent/agent.js';
import { discoverGpus } from './agent/gpu-discovery.js';
import { localNodeId } from './agent/node-id.js';
import { nodeRuntimes } from './agent/node-runtimes.js';
import { retryWhileStoreUnavailable } from './agent/store-outage-retry.js';
import { buildApi } from './api/app.js';
import type { BlobStore } from './blobs/blob-store.js';
import { BrokerPublishers } from './brokers/broker-publishers.js';
import { DiskBlobStore } from './blobs/disk/disk-blob-store.js';
import { FerryMetrics } from './api/metrics.js';
import type { BlobsConfig, ServerConfig, StoreConfig } from './config.js';
import { ControlPlane } from './control/control-plane.js';
import type { CreateFunctionInput } from './control/functions-service.js';
import type { OutcomeSubscriber } from './control/outcomes/outcome-dispatcher.js';
import type { WorkflowInput } from './control/workflows/workflows-service.js';
import { type Clock, systemClock } from './core/clock.js';
import type { Leadership, SignalBus } from './core/replicas.js';
import { RUNTIME_TYPES } from './core/runtime-types.js';
import { VERSION } from './core/version.js';
import type { ScalingSettings } from './core/types.js';
import { instrumentStore } from './store/instrumented-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningServer {
  url: string;
  /** The admin key, only on the very first start (it is also in `<data-dir>/admin.key`). */
  newAdminKey: string | null;
  adminKeyFile: string;
  nodeId: string | null;
  examples: string[];
  close(): Promise<void>;
}

/** What the composition root wires in besides what the config says. */
export interface ServerParts {
  /** Consumers of the outcome feed (run on the leader replica). */
  subscribers?: OutcomeSubscriber[];
}

/** The composition root: builds every part from the parsed config and starts them. */
export async function startServer(config: ServerConfig, log: Logger, parts: ServerParts = {}): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const onError = (err: unknown): void => log.error({ err }, (err as Error)?.message ?? String(err));
  const opened = await openStore(config.store, onError);
  const { clock } = opened;
  // Bound once the control plane exists: the store it uses is the timed one.
  let metrics: FerryMetrics | null = null;
  const store = config.metrics ? instrumentStore(opened.store, (operation, seconds, failed) => metrics?.storeCall(operation, seconds, failed)) : opened.store;
  const workDir = join(config.dataDir, 'node');
  const runtimes = config.agent ? await nodeRuntimes({ workDir, dockerHost: config.dockerHost, gpus: config.gpus ? 'declared' : 'nvidia' }, (msg) => log.info(msg)) : null;
  // A pure control plane cannot know its remote agents' runtimes: it accepts every type, and a node
  // without the one a version needs fails its instance with the reason.
  const runtimeTypes = new Set<string>(runtimes ? runtimes.keys() : RUNTIME_TYPES);
  const blobs = await openBlobs(config.blobs, store, clock);
  const publishers = new BrokerPublishers();
  const control = new ControlPlane(store, {
    clock,
    config: config.control,
    runtimes: runtimeTypes,
    blobs,
    onError,
    bus: opened.bus,
    leadership: opened.leadership,
    subscribers: parts.subscribers,
    publish: (target, body, headers) => publishers.publish(target, body, headers),
  });
  metrics = config.metrics ? new FerryMetrics(control) : null;
  const { auth, audit, functions, deployments, tasks, streams, fleet, assets, triggers, workflows, gateway } = control;

  const adminKeyFile = join(config.dataDir, 'admin.key');
  let newAdminKey: string | null = null;
  let api: FastifyInstance | null = null;
  let agent: Agent | null = null;
  // Ends the local agent's waiting out of a store outage, so it can stop.
  const agentStopped = new AbortController();
  const close = async (): Promise<void> => {
    agentStopped.abort();
    await agent?.stop();
    await api?.close();
    await control.stop();
    await publishers.close();
    await opened.close();
  };
  try {
    newAdminKey = await auth.bootstrap();
    if (newAdminKey) {
      await writeFile(adminKeyFile, `${newAdminKey}\n`, { mode: 0o600 });
      await chmod(adminKeyFile, 0o600);
    }
    api = await buildApi({ store, auth, audit, functions, deployments, tasks, streams, fleet, assets, triggers, workflows, gateway, metrics, version: VERSION }, log, config.http);
    const address = await api.listen({ port: config.port, host: config.host, backlog: config.http.backlog });
    const url = address.replace('0.0.0.0', '127.0.0.1');
    control.start();
    let nodeId: string | null = null;
    if (runtimes) {
      nodeId = await localNodeId(config.dataDir);
      const gpus = config.gpus ?? (await discoverGpus());
      const agentConfig = { nodeId, nodeName: hostname(), gpus, workDir, ...config.agentTimers, assetCacheBytes: config.assetCacheBytes, controlUrl: url };
      agent = new Agent(retryWhileStoreUnavailable(control.gateway, agentStopped.signal), runtimes, { ...agentConfig, onTaskStarted: metrics?.taskDispatched, onAssetFetch: metrics?.assetFetched }, onError);
      await agent.start();
    }
    // Examples are created as the admin, whose key only the replica that created the store has.
    const examples = config.examples && existsSync(adminKeyFile) ? await deployExamples(adminKeyFile, control, log) : [];
    return { url, newAdminKey, adminKeyFile, nodeId, examples, close };
  } catch (err) {
    await close().catch(onError);
    throw err;
  }
}

/** The disk blob store (its URLs signed with the one key the store keeps, so every replica accepts every replica's), or a bucket. */
async function openBlobs(config: BlobsConfig, store: Store, clock: Clock): Promise<BlobStore> {
  if (config.kind === 'disk') return DiskBlobStore.open(config.path, await store.assets.signingKey(() => randomBytes(32)), clock);
  // Loaded only here, so the default never loads the AWS SDK.
  const { S3BlobStore } = await import('./blobs/s3/s3-blob-store.js');
  return S3BlobStore.open(config);
}

interface OpenedStore {
  store: Store;
  /** The clock leases are judged by: the database's, for PostgreSQL. */
  clock: Clock;
  bus?: SignalBus;
  leadership?: Leadership;
  close(): Promise<void>;
}

/** The embedded SQLite store, or PostgreSQL with what replicas share (signals, the leader lock). */
async function openStore(config: StoreConfig, onError: (err: unknown) => void): Promise<OpenedStore> {
  if (config.kind === 'sqlite') {
    const store = new SqliteStore({ path: config.path, synchronous: config.synchronous, clock: systemClock });
    return { store, clock: systemClock, close: () => store.close() };
  }
  // Loaded only here, so the embedded default never loads the PostgreSQL driver.
  const [{ PostgresStore }, { DatabaseClock }, { PgSignalBus }, { PgLeaderLock }] = await Promise.all([
    import('./store/postgres/postgres-store.js'),
    import('./replicas/postgres/database-clock.js'),
    import('./replicas/postgres/signal-bus.js'),
    import('./replicas/postgres/leader-lock.js'),
  ]);
  // Every replica judges leases by the one database server's clock.
  const clock = await DatabaseClock.connect({ url: config.url });
  const store = await PostgresStore.open({ url: config.url, schema: config.schema, clock }).catch(async (err: unknown) => {
    await clock.stop();
    throw err;
  });
  const bus = await PgSignalBus.connect(config.url, { schema: config.schema, onError }).catch(async (err: unknown) => {
    await store.close();
    await clock.stop();
    throw err;
  });
  const leadership = new PgLeaderLock(config.url, config.schema, config.leaderPollMs, onError);
  return {
    store,
    clock,
    bus,
    leadership,
    close: async () => {
      await bus.close();
      await store.close();
      await clock.stop();
    },
  };
}

/**
 * Creates and deploys each `examples/<name>/ferry.json` that is not there yet, as the admin tenant,
 * then creates each `examples/<name>/workflow.json` (`{name, description?, definition}`) not there yet.
 */
async function deployExamples(adminKeyFile: string, control: ControlPlane, log: Logger): Promise<string[]> {
  const { auth, functions, deployments, workflows } = control;
  const principal = await auth.authenticate(`Bearer ${(await readFile(adminKeyFile, 'utf8')).trim()}`);
  const root = join(PACKAGE_ROOT, 'examples');
  const names: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const file = join(root, entry.name, 'ferry.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const def = JSON.parse(await readFile(file, 'utf8')) as CreateFunctionInput & { deployment?: Partial<ScalingSettings> };
    const { deployment, ...fn } = def;
    fn.version.runtime.cwd = resolve(root, entry.name, fn.version.runtime.cwd ?? '.');
    names.push(fn.name);
    if (await functions.get(principal.tenantId, fn.name).catch(() => null)) continue;
    const created = await functions.create(principal.tenantId, fn);
    await deployments.put(principal.tenantId, created.function.id, created.version.id, deployment ?? {});
    log.info({ functionId: created.function.id }, `deployed example ${fn.name}`);
  }
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const file = join(root, entry.name, 'workflow.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const wf = JSON.parse(await readFile(file, 'utf8')) as WorkflowInput;
    names.push(wf.name);
    if (await workflows.get(principal.tenantId, wf.name).catch(() => null)) continue;
    const created = await workflows.create(principal.tenantId, wf);
    log.info({ workflowId: created.id }, `created example workflow ${wf.name}`);
  }
  return names;
}
