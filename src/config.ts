import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_CONTROL_CONFIG, type ControlConfig } from './control/control-config.js';
import { invalid } from './core/errors.js';
import { parseCidrs } from './core/outbound-addresses.js';
import { type GpuDevice, parseGpuSpec } from './core/gpu-spec.js';

export interface ServerFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  store?: string;
  blobs?: string;
  gpus?: string;
  agent?: boolean;
  examples?: boolean;
}

/** Levels of the JSON log, least to most severe; FERRY_LOG_LEVEL picks the least that is written. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  logLevel: LogLevel;
  port: number;
  host: string;
  dataDir: string;
  store: StoreConfig;
  blobs: BlobsConfig;
  /** Declared inventory; null means discover with nvidia-smi. */
  gpus: GpuDevice[] | null;
  agent: boolean;
  examples: boolean;
  /** Prometheus metrics (FERRY_METRICS=off: none kept, `/metrics` answers 404, the store calls untimed). */
  metrics: boolean;
  /** DOCKER_HOST for the docker runtime; null for the default socket. */
  dockerHost: string | null;
  control: ControlConfig;
  agentTimers: AgentTimers;
  /** FERRY_ASSET_CACHE_BYTES: bytes of input assets the local agent's node keeps. */
  assetCacheBytes: number;
  http: HttpSettings;
}

/** How the API's HTTP server meets a flood of connections and slow clients. */
export interface HttpSettings {
  /** FERRY_HTTP_BACKLOG: connections the kernel may hold for accepting (it caps this at net.core.somaxconn). */
  backlog: number;
  /** FERRY_HEADERS_TIMEOUT_MS: a client's request headers must have arrived within this; then its connection is closed. */
  headersTimeoutMs: number;
}

export type StoreConfig =
  | { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full' }
  /** `schema` holds Ferry's tables; `leaderPollMs` is how often a replica tries to become the leader. */
  | { kind: 'postgres'; url: string; schema: string; leaderPollMs: number };

/** Where assets' bytes live: files under a directory Ferry serves, or an S3-compatible bucket. */
export type BlobsConfig = { kind: 'disk'; path: string } | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region: string };

export interface AgentTimers {
  heartbeatMs: number;
  syncIntervalMs: number;
  claimWaitMs: number;
  logFlushMs: number;
  progressPollMs: number;
}

export interface AgentFlags {
  server?: string;
  token?: string;
  gpus?: string;
  dataDir?: string;
  name?: string;
}

/** `ferry agent`: a node that serves a control plane elsewhere. */
export interface RemoteAgentConfig {
  logLevel: LogLevel;
  servers: string[];
  token: string;
  dataDir: string;
  nodeName: string;
  /** Declared inventory; null means discover with nvidia-smi. */
  gpus: GpuDevice[] | null;
  /** DOCKER_HOST for the docker runtime; null for the default socket. */
  dockerHost: string | null;
  timers: AgentTimers;
  /** FERRY_ASSET_CACHE_BYTES: bytes of input assets the node keeps. */
  assetCacheBytes: number;
}

const DEFAULT_ASSET_CACHE_BYTES = 20 * 1024 ** 3;

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
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`--port: "${flags.port ?? env.FERRY_PORT}" is not a port number`);
  const dataDir = resolve(flags.dataDir ?? env.FERRY_DATA_DIR ?? '.ferry');
  const gpuSpec = flags.gpus ?? env.FERRY_GPUS;
  const d = DEFAULT_CONTROL_CONFIG;
  return Object.freeze({
    logLevel: parseLogLevel(env),
    port,
    host: flags.host ?? env.FERRY_HOST ?? '127.0.0.1',
    dataDir,
    store: parseStore(flags.store ?? env.FERRY_STORE ?? '', dataDir, env),
    blobs: parseBlobs(flags.blobs ?? env.FERRY_BLOBS ?? '', dataDir),
    gpus: gpuSpec === undefined ? null : parseGpuSpec(gpuSpec),
    agent: flags.agent ?? true,
    dockerHost: env.DOCKER_HOST || null,
    examples: flags.examples ?? false,
    metrics: parseOnOff(env, 'FERRY_METRICS', true),
    http: { backlog: int(env, 'FERRY_HTTP_BACKLOG', 4096), headersTimeoutMs: int(env, 'FERRY_HEADERS_TIMEOUT_MS', 10_000) },
    control: {
      leaseMs: int(env, 'FERRY_LEASE_MS', d.leaseMs),
      reaperIntervalMs: int(env, 'FERRY_REAPER_INTERVAL_MS', d.reaperIntervalMs),
      nodeLostMs: int(env, 'FERRY_NODE_LOST_MS', d.nodeLostMs),
      reconcileIntervalMs: int(env, 'FERRY_RECONCILE_INTERVAL_MS', d.reconcileIntervalMs),
      retryBaseMs: int(env, 'FERRY_RETRY_BASE_MS', d.retryBaseMs),
      restartBaseMs: int(env, 'FERRY_RESTART_BASE_MS', d.restartBaseMs),
      maxStartFailures: int(env, 'FERRY_MAX_START_FAILURES', d.maxStartFailures),
      streamPollMs: int(env, 'FERRY_STREAM_POLL_MS', d.streamPollMs),
      loadSampleMs: int(env, 'FERRY_LOAD_SAMPLE_MS', d.loadSampleMs),
      outcomeBatch: d.outcomeBatch,
      outcomePollMs: int(env, 'FERRY_OUTCOME_POLL_MS', d.outcomePollMs),
      outcomeRetentionMs: int(env, 'FERRY_OUTCOME_RETENTION_MS', d.outcomeRetentionMs),
      assetSweepMs: int(env, 'FERRY_ASSET_SWEEP_MS', d.assetSweepMs),
      triggerPollMs: int(env, 'FERRY_TRIGGER_POLL_MS', d.triggerPollMs),
      triggerMaxQueued: int(env, 'FERRY_TRIGGER_MAX_QUEUED', d.triggerMaxQueued),
      deliveryRetryBaseMs: int(env, 'FERRY_DELIVERY_RETRY_MS', d.deliveryRetryBaseMs),
      deliveryPollMs: int(env, 'FERRY_DELIVERY_POLL_MS', d.deliveryPollMs),
      workflowPollMs: int(env, 'FERRY_WORKFLOW_POLL_MS', d.workflowPollMs),
      auditRetentionMs: int(env, 'FERRY_AUDIT_RETENTION_MS', d.auditRetentionMs),
      webhookTimeoutMs: int(env, 'FERRY_WEBHOOK_TIMEOUT_MS', d.webhookTimeoutMs),
      webhookAllowed: parseCidrs(env.FERRY_WEBHOOK_ALLOW_CIDRS ?? '', 'FERRY_WEBHOOK_ALLOW_CIDRS'),
    },
    agentTimers: parseAgentTimers(env),
    assetCacheBytes: int(env, 'FERRY_ASSET_CACHE_BYTES', DEFAULT_ASSET_CACHE_BYTES),
  });
}

function parseOnOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value !== 'on' && value !== 'off') throw invalid(`${name}: must be on or off, got "${value}"`);
  return value === 'on';
}

function parseLogLevel(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.FERRY_LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw invalid(`FERRY_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return level as LogLevel;
}

function parseStore(url: string, dataDir: string, env: NodeJS.ProcessEnv): StoreConfig {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const schema = env.FERRY_PG_SCHEMA ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw invalid(`FERRY_PG_SCHEMA: "${schema}" is not a plain lower-case schema name`);
    return { kind: 'postgres', url, schema, leaderPollMs: int(env, 'FERRY_LEADER_POLL_MS', 1_000) };
  }
  let path = resolve(dataDir, 'ferry.db');
  if (url.startsWith('sqlite:')) path = resolve(url.replace(/^sqlite:(\/\/)?/, ''));
  else if (url !== '') throw invalid(`--store: "${url}" is not sqlite:PATH or postgres://…`);
  const synchronous = env.FERRY_SQLITE_SYNC ?? 'normal';
  if (synchronous !== 'normal' && synchronous !== 'full') throw invalid(`FERRY_SQLITE_SYNC: must be normal or full, got "${synchronous}"`);
  return { kind: 'sqlite', path, synchronous };
}

function parseBlobs(spec: string, dataDir: string): BlobsConfig {
  if (spec === '') return { kind: 'disk', path: resolve(dataDir, 'blobs') };
  if (spec.startsWith('disk:')) return { kind: 'disk', path: resolve(spec.slice(5)) };
  if (spec.startsWith('s3://')) {
    const url = new URL(spec);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname)) throw invalid(`--blobs: "${url.hostname}" is not an S3 bucket name`);
    const unknown = [...url.searchParams.keys()].find((k) => k !== 'endpoint' && k !== 'region');
    if (unknown) throw invalid(`--blobs: unknown parameter "${unknown}" (endpoint and region are known)`);
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw invalid(`--blobs: endpoint "${endpoint}" is not an http(s) URL`);
    const prefix = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return { kind: 's3', bucket: url.hostname, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`, endpoint, region: url.searchParams.get('region') ?? 'us-east-1' };
  }
  throw invalid(`--blobs: "${spec}" is not disk:PATH or s3://BUCKET/PREFIX?endpoint=…&region=…`);
}

/** The store for a log line: the SQLite file, or the PostgreSQL URL without its password. */
export function describeStore(store: StoreConfig): string {
  if (store.kind === 'sqlite') return store.path;
  const url = new URL(store.url);
  if (url.password) url.password = '***';
  return `${url.toString()} (schema ${store.schema})`;
}

function parseAgentTimers(env: NodeJS.ProcessEnv): AgentTimers {
  return {
    heartbeatMs: int(env, 'FERRY_HEARTBEAT_MS', 5_000),
    syncIntervalMs: int(env, 'FERRY_AGENT_SYNC_MS', 2_000),
    claimWaitMs: int(env, 'FERRY_CLAIM_WAIT_MS', 5_000),
    logFlushMs: int(env, 'FERRY_LOG_FLUSH_MS', 200),
    progressPollMs: int(env, 'FERRY_PROGRESS_POLL_MS', 250),
  };
}

/** Parses `ferry agent`'s flags and environment once, into a frozen config. */
export function parseAgentConfig(flags: AgentFlags, env: NodeJS.ProcessEnv): Readonly<RemoteAgentConfig> {
  const list = flags.server ?? env.FERRY_SERVER ?? '';
  const servers = list.split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (servers.length === 0) throw invalid('--server: give the control plane URL (or several, comma-separated), or set FERRY_SERVER');
  for (const url of servers) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw invalid(`--server: "${url}" is not an http(s) URL`);
  }
  const token = flags.token ?? env.FERRY_NODE_TOKEN ?? env.FERRY_TOKEN;
  if (!token) throw invalid('--token: give a node token (ferry nodes token create), or set FERRY_NODE_TOKEN');
  const gpuSpec = flags.gpus ?? env.FERRY_GPUS;
  return Object.freeze({
    logLevel: parseLogLevel(env),
    servers,
    token,
    dataDir: resolve(flags.dataDir ?? env.FERRY_DATA_DIR ?? '.ferry-agent'),
    nodeName: flags.name ?? env.FERRY_NODE_NAME ?? hostname(),
    gpus: gpuSpec === undefined ? null : parseGpuSpec(gpuSpec),
    dockerHost: env.DOCKER_HOST || null,
    timers: parseAgentTimers(env),
    assetCacheBytes: int(env, 'FERRY_ASSET_CACHE_BYTES', DEFAULT_ASSET_CACHE_BYTES),
  });
}
