import { resolve } from 'node:path';
import { DEFAULT_CONTROL_CONFIG, type ControlConfig } from './control/control-config.js';
import { invalid } from './core/errors.js';
import { type GpuDevice, parseGpuSpec } from './core/gpu-spec.js';

export interface ServerFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  store?: string;
  gpus?: string;
  agent?: boolean;
  examples?: boolean;
}

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  store: { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full' };
  /** Declared inventory; null means discover with nvidia-smi. */
  gpus: GpuDevice[] | null;
  agent: boolean;
  examples: boolean;
  control: ControlConfig;
  agentTimers: { heartbeatMs: number; syncIntervalMs: number; claimWaitMs: number; logFlushMs: number; progressPollMs: number };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw invalid(`${name}: must be a whole number of at least ${min}, got "${raw}"`);
  return n;
}

/**
 * Parses flags and environment once, in the composition root, into a frozen config. Timers are
 * settable through FERRY_* variables so fault tests can run with short windows.
 */
export function parseServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv): Readonly<ServerConfig> {
  const port = Number(flags.port ?? env.FERRY_PORT ?? 7700);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`--port: "${flags.port}" is not a port number`);
  const dataDir = resolve(flags.dataDir ?? env.FERRY_DATA_DIR ?? '.ferry');
  const storeUrl = flags.store ?? env.FERRY_STORE ?? '';
  let path = resolve(dataDir, 'ferry.db');
  if (storeUrl.startsWith('postgres://') || storeUrl.startsWith('postgresql://')) {
    throw invalid('--store: the PostgreSQL store is not available in this build yet; use the embedded SQLite store (omit --store)');
  } else if (storeUrl.startsWith('sqlite:')) {
    path = resolve(storeUrl.replace(/^sqlite:(\/\/)?/, ''));
  } else if (storeUrl !== '') {
    throw invalid(`--store: "${storeUrl}" is not sqlite:PATH or postgres://…`);
  }
  const gpuSpec = flags.gpus ?? env.FERRY_GPUS;
  const sync = env.FERRY_SQLITE_SYNC ?? 'normal';
  if (sync !== 'normal' && sync !== 'full') throw invalid(`FERRY_SQLITE_SYNC: must be normal or full, got "${sync}"`);
  const d = DEFAULT_CONTROL_CONFIG;
  return Object.freeze({
    port,
    host: flags.host ?? env.FERRY_HOST ?? '127.0.0.1',
    dataDir,
    store: { kind: 'sqlite' as const, path, synchronous: sync as 'normal' | 'full' },
    gpus: gpuSpec === undefined ? null : parseGpuSpec(gpuSpec),
    agent: flags.agent ?? true,
    examples: flags.examples ?? false,
    control: {
      leaseMs: int(env, 'FERRY_LEASE_MS', d.leaseMs),
      reaperIntervalMs: int(env, 'FERRY_REAPER_INTERVAL_MS', d.reaperIntervalMs),
      nodeLostMs: int(env, 'FERRY_NODE_LOST_MS', d.nodeLostMs),
      reconcileIntervalMs: int(env, 'FERRY_RECONCILE_INTERVAL_MS', d.reconcileIntervalMs),
      retryBaseMs: int(env, 'FERRY_RETRY_BASE_MS', d.retryBaseMs),
      restartBaseMs: int(env, 'FERRY_RESTART_BASE_MS', d.restartBaseMs),
      maxStartFailures: int(env, 'FERRY_MAX_START_FAILURES', d.maxStartFailures),
    },
    agentTimers: {
      heartbeatMs: int(env, 'FERRY_HEARTBEAT_MS', 5_000),
      syncIntervalMs: int(env, 'FERRY_AGENT_SYNC_MS', 2_000),
      claimWaitMs: int(env, 'FERRY_CLAIM_WAIT_MS', 5_000),
      logFlushMs: int(env, 'FERRY_LOG_FLUSH_MS', 200),
      progressPollMs: int(env, 'FERRY_PROGRESS_POLL_MS', 250),
    },
  });
}
