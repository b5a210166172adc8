import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Agent } from './agent/agent.js';
import { discoverGpus } from './agent/gpu-discovery.js';
import { ProcessRuntime } from './agent/runtimes/process/process-runtime.js';
import type { Runtime } from './agent/runtimes/runtime.js';
import { buildApi } from './api/app.js';
import type { ServerConfig } from './config.js';
import { ControlPlane } from './control/control-plane.js';
import type { CreateFunctionInput } from './control/functions-service.js';
import { systemClock } from './core/clock.js';
import { VERSION } from './core/version.js';
import type { ScalingSettings } from './core/types.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';

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

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** The composition root: builds every part from the parsed config and starts them. */
export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const clock = systemClock;
  const onError = (err: unknown): void => log('error', (err as Error)?.message ?? String(err), { stack: (err as Error)?.stack });
  const store = new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous, clock });
  const runtimes = new Map<string, Runtime>([['process', new ProcessRuntime(join(config.dataDir, 'node'))]]);
  const control = new ControlPlane(store, { clock, config: config.control, runtimes: new Set(runtimes.keys()), onError });
  const { auth, functions, deployments, tasks, gateway } = control;

  const adminKeyFile = join(config.dataDir, 'admin.key');
  const newAdminKey = await auth.bootstrap();
  if (newAdminKey) {
    await writeFile(adminKeyFile, `${newAdminKey}\n`, { mode: 0o600 });
    await chmod(adminKeyFile, 0o600);
  }

  let api: FastifyInstance | null = null;
  let agent: Agent | null = null;
  const close = async (): Promise<void> => {
    await agent?.stop();
    await api?.close();
    await control.stop();
    await store.close();
  };
  try {
    api = await buildApi({ store, auth, functions, deployments, tasks, gateway, version: VERSION }, (err, req) =>
      log('error', (err as Error)?.message ?? String(err), { method: req?.method, url: req?.url, stack: (err as Error)?.stack }),
    );
    const address = await api.listen({ port: config.port, host: config.host });
    control.start();
    let nodeId: string | null = null;
    if (config.agent) {
      nodeId = await localNodeId(config.dataDir);
      const gpus = config.gpus ?? (await discoverGpus());
      agent = new Agent(control.gateway, runtimes, { nodeId, nodeName: hostname(), gpus, workDir: join(config.dataDir, 'node'), ...config.agentTimers }, onError);
      await agent.start();
    }
    const examples = config.examples ? await deployExamples(adminKeyFile, control, log) : [];
    return { url: address.replace('0.0.0.0', '127.0.0.1'), newAdminKey, adminKeyFile, nodeId, examples, close };
  } catch (err) {
    await close().catch(onError);
    throw err;
  }
}

/** The local node keeps its id across restarts, so a restart is recognised as the same node. */
async function localNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'node-id');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const id = `node_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await writeFile(file, `${id}\n`);
  return id;
}

/** Creates and deploys each `examples/<name>/ferry.json` that is not there yet, as the admin tenant. */
async function deployExamples(adminKeyFile: string, control: ControlPlane, log: Logger): Promise<string[]> {
  const { auth, functions, deployments } = control;
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
    log('info', `deployed example ${fn.name}`, { functionId: created.function.id });
  }
  return names;
}
