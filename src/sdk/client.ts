import { sleep } from '../core/clock.js';
import { FerryError, isErrorCode } from '../core/errors.js';
import { isJsonType } from '../core/outputs.js';
import type { TenantQuotas } from '../core/rate-limits.js';
import type { ScalingSettings } from '../core/types.js';
import type { VersionSpecInput } from '../core/version-spec.js';
import type { TaskStatus } from '../core/states.js';
import type {
  DeliveryInfo,
  BatchItem,
  CreateFunctionRequest,
  DeploymentInfo,
  FleetEvent,
  FunctionInfo,
  GpuTypeInfo,
  InstanceInfo,
  KeyInfo,
  KeyListing,
  AuditEntryInfo,
  LoadSampleInfo,
  LogLine,
  NodeInfo,
  Page,
  QueueInfo,
  SubmitRequest,
  TaskInfo,
  TaskStreamEvent,
  VersionInfo,
} from './types.js';
import { AssetsClient } from './assets-client.js';
import { queryString } from './query-string.js';
import { TriggersClient } from './triggers-client.js';
import { WorkflowsClient } from './workflows-client.js';
import { type ServerSentEvent, readServerSentEvents } from './sse.js';

export * from './types.js';
export { FerryError };

/** The answer to an invoke: the output when the task finished in time, else the task to poll. */
export type InvokeResult = { done: true; taskId: string; output: unknown } | { done: false; taskId: string; task: TaskInfo };

export interface InvokeOptions {
  versionId?: string;
  /** Seconds to wait for the result (default 5); 0 or `async` answers at once. */
  waitSeconds?: number;
  async?: boolean;
  idempotencyKey?: string;
  priority?: number;
  /** READY assets the task finds in its input-assets directory. */
  inputAssets?: string[];
}

/** Consecutive failed connections after which a stream gives up. */
const STREAM_TRIES = 8;

/** The FerryError an error body describes; a proxy's 502/503/504 without one is SERVER_UNREACHABLE. */
function apiError(status: number, body: unknown, fallback: string): FerryError {
  const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
  const gateway = status === 502 || status === 503 || status === 504;
  const code = e?.code && isErrorCode(e.code) ? e.code : gateway ? 'SERVER_UNREACHABLE' : status === 404 ? 'NOT_FOUND' : 'INTERNAL';
  return new FerryError(code, e?.message ?? fallback, e?.details ? { details: e.details } : undefined);
}

/**
 * A typed client for every route of the Ferry API. Errors come back as the same FerryError
 * class the server throws, with its stable `code`.
 */
export class FerryClient {
  private readonly base: string;
  /** Assets: create, upload and download (streamed), list, delete. */
  readonly assets = new AssetsClient((method, path, body) => this.request(method, path, body));
  readonly triggers = new TriggersClient((method, path, body) => this.request(method, path, body));
  /** Workflows and their executions. */
  readonly workflows = new WorkflowsClient((method, path, body) => this.request(method, path, body));

  constructor(
    baseUrl: string,
    private readonly token: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /**
   * Sends a request and decodes JSON; non-2xx answers throw FerryError. A server that does not
   * answer, or a proxy's 502/503/504 without a Ferry error, throws SERVER_UNREACHABLE.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<{ status: number; data: T; headers: Headers }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      throw new FerryError('SERVER_UNREACHABLE', `cannot reach Ferry at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    let data: unknown = null;
    // A function's own response (invoke, /output) comes with its own type: text that is not JSON stays text.
    const type = res.headers.get('content-type');
    if (res.ok && type !== null && !isJsonType(type)) return { status: res.status, data: text as T, headers: res.headers };
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      if (res.ok) throw new FerryError('INTERNAL', `Ferry at ${this.base} answered ${method} ${path} with something that is not JSON`);
    }
    if (!res.ok) throw apiError(res.status, data, `HTTP ${res.status} from ${this.base}`);
    return { status: res.status, data: data as T, headers: res.headers };
  }

  /** Throws the error a refused stream request's body describes. */
  private async refused(res: Response, path: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let data: unknown = null;
    try {
      data = JSON.parse(text);
    } catch {
      // not a Ferry error body
    }
    throw apiError(res.status, data, `HTTP ${res.status} from ${this.base} for GET ${path}`);
  }

  private async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).data;
  }

  private static query(params: Record<string, string | number | boolean | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  async createFunction(req: CreateFunctionRequest): Promise<FunctionInfo & { version: VersionInfo }> {
    return (await this.request<FunctionInfo & { version: VersionInfo }>('POST', '/v1/functions', req)).data;
  }
  listFunctions(page: { limit?: number; cursor?: string } = {}): Promise<Page<FunctionInfo>> {
    return this.get(`/v1/functions${FerryClient.query(page)}`);
  }
  getFunction(idOrName: string): Promise<FunctionInfo> {
    return this.get(`/v1/functions/${encodeURIComponent(idOrName)}`);
  }
  async deleteFunction(idOrName: string): Promise<void> {
    await this.request('DELETE', `/v1/functions/${encodeURIComponent(idOrName)}`);
  }
  async addVersion(functionIdOrName: string, spec: VersionSpecInput): Promise<VersionInfo> {
    return (await this.request<VersionInfo>('POST', `/v1/functions/${encodeURIComponent(functionIdOrName)}/versions`, spec)).data;
  }
  listVersions(functionIdOrName: string, page: { limit?: number; cursor?: string } = {}): Promise<Page<VersionInfo>> {
    return this.get(`/v1/functions/${encodeURIComponent(functionIdOrName)}/versions${FerryClient.query(page)}`);
  }
  getVersion(functionIdOrName: string, versionId: string): Promise<VersionInfo> {
    return this.get(`/v1/functions/${encodeURIComponent(functionIdOrName)}/versions/${encodeURIComponent(versionId)}`);
  }
  async deleteVersion(functionIdOrName: string, versionId: string): Promise<void> {
    await this.request('DELETE', `/v1/functions/${encodeURIComponent(functionIdOrName)}/versions/${encodeURIComponent(versionId)}`);
  }
  /** The highest-numbered version of a function. */
  async latestVersion(functionIdOrName: string): Promise<VersionInfo> {
    let page = await this.listVersions(functionIdOrName, { limit: 500 });
    let latest = page.items[page.items.length - 1];
    while (page.nextCursor) {
      page = await this.listVersions(functionIdOrName, { limit: 500, cursor: page.nextCursor });
      latest = page.items[page.items.length - 1] ?? latest;
    }
    if (!latest) throw new FerryError('VERSION_NOT_FOUND', `function ${functionIdOrName} has no versions`);
    return latest;
  }

  private deploymentPath(functionIdOrName: string, versionId: string): string {
    return `/v1/functions/${encodeURIComponent(functionIdOrName)}/versions/${encodeURIComponent(versionId)}/deployment`;
  }
  async deploy(functionIdOrName: string, versionId: string, settings: Partial<ScalingSettings> = {}): Promise<DeploymentInfo> {
    return (await this.request<DeploymentInfo>('PUT', this.deploymentPath(functionIdOrName, versionId), settings)).data;
  }
  getDeployment(functionIdOrName: string, versionId: string): Promise<DeploymentInfo> {
    return this.get(this.deploymentPath(functionIdOrName, versionId));
  }
  /** The deployment's load over time, as its autoscaler sampled it (default: the last hour). */
  deploymentTimeline(functionIdOrName: string, versionId: string, options: { since?: string; limit?: number } = {}): Promise<{ functionId: string; versionId: string; samples: LoadSampleInfo[] }> {
    return this.get(`${this.deploymentPath(functionIdOrName, versionId)}/timeline${FerryClient.query(options)}`);
  }
  async undeploy(functionIdOrName: string, versionId: string, options: { graceful?: boolean; running?: 'requeue' | 'cancel' } = {}): Promise<DeploymentInfo> {
    return (await this.request<DeploymentInfo>('DELETE', this.deploymentPath(functionIdOrName, versionId) + FerryClient.query(options))).data;
  }

  /** Invokes a function and waits for its output (see `InvokeOptions`). */
  async invoke(functionIdOrName: string, input: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const path = options.versionId
      ? `/v1/functions/${encodeURIComponent(functionIdOrName)}/versions/${encodeURIComponent(options.versionId)}/invoke`
      : `/v1/functions/${encodeURIComponent(functionIdOrName)}/invoke`;
    const prefer = options.async ? 'respond-async' : `wait=${options.waitSeconds ?? 5}`;
    const headers: Record<string, string> = { prefer };
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.priority !== undefined) headers['ferry-priority'] = String(options.priority);
    if (options.inputAssets?.length) headers['ferry-input-assets'] = options.inputAssets.join(',');
    const res = await this.request<unknown>('POST', path, input ?? null, headers);
    const taskId = res.headers.get('ferry-task-id') ?? '';
    if (res.status === 200) return { done: true, taskId, output: res.data };
    return { done: false, taskId, task: res.data as TaskInfo };
  }

  async submit(req: SubmitRequest): Promise<TaskInfo> {
    return (await this.request<TaskInfo>('POST', '/v1/tasks', req)).data;
  }
  /**
   * Submits up to 1,000 tasks in one request and one transaction; answers each task's id, status
   * and position, or the error that kept it out (an unknown function, a reused idempotency key),
   * in the order given. Split larger fan-outs into several calls.
   */
  async submitBatch(tasks: SubmitRequest[]): Promise<BatchItem[]> {
    const { data } = await this.request<{ items: ({ id: string; status: TaskStatus; position?: number } | { error: unknown })[] }>('POST', '/v1/tasks/batch', { tasks });
    return data.items.map((item) => ('error' in item ? { error: apiError(400, item, 'refused') } : item));
  }
  getTask(taskId: string): Promise<TaskInfo> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}`);
  }
  /**
   * A succeeded task's output as the function gave it: the raw response, its bytes and content
   * type (redirects to an output asset followed), for the caller to read or stream; for binary
   * outputs, where `taskOutput` (JSON or text) does not fit.
   */
  async taskOutputResponse(taskId: string): Promise<Response> {
    const path = `/v1/tasks/${encodeURIComponent(taskId)}/output`;
    let res: Response;
    try {
      res = await fetch(this.base + path, { headers: { authorization: `Bearer ${this.token}` } });
    } catch (err) {
      throw new FerryError('SERVER_UNREACHABLE', `cannot reach Ferry at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) await this.refused(res, path);
    return res;
  }
  listTasks(filter: { functionId?: string; versionId?: string; status?: string; createdAfter?: string; createdBefore?: string; limit?: number; cursor?: string } = {}): Promise<Page<TaskInfo>> {
    return this.get(`/v1/tasks${FerryClient.query(filter)}`);
  }
  async cancelTask(taskId: string): Promise<TaskInfo> {
    return (await this.request<TaskInfo>('POST', `/v1/tasks/${encodeURIComponent(taskId)}/cancel`)).data;
  }
  /** Where a task's outcome was sent: each delivery with every attempt and its next retry. */
  async taskDeliveries(taskId: string): Promise<DeliveryInfo[]> {
    return (await this.request<{ items: DeliveryInfo[] }>('GET', `/v1/tasks/${encodeURIComponent(taskId)}/deliveries`)).data.items;
  }
  /** A succeeded task's output: a JSON output's value, a text one's text (see taskOutputResponse for bytes). */
  taskOutput(taskId: string): Promise<unknown> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/output`);
  }
  taskLogs(taskId: string, after = 0): Promise<{ taskId: string; status: TaskInfo['status']; lines: LogLine[]; next: number }> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/logs${FerryClient.query({ after })}`);
  }
  taskPosition(taskId: string): Promise<{ taskId: string; status: TaskInfo['status']; position: number | null }> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/position`);
  }

  /**
   * Follows a task until it ends or `timeoutMs` passes, calling `onUpdate` on each change, and
   * returns it as it is then (with its output when it ended).
   */
  async wait(taskId: string, options: { timeoutMs?: number; onUpdate?: (task: TaskInfo) => void; signal?: AbortSignal } = {}): Promise<TaskInfo> {
    const stop = new AbortController();
    const timer = options.timeoutMs === undefined ? null : setTimeout(() => stop.abort(), options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      for await (const e of this.taskEvents(taskId, { signal })) {
        options.onUpdate?.(e.task);
        if (e.type === 'end') return e.task;
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
    return this.getTask(taskId);
  }

  /**
   * The task as it changes (Server-Sent Events from `/v1/tasks/{id}/events`): first as it is,
   * then each change, last `end` with its output. Ends there, or when `signal` aborts; a dropped
   * connection is resumed where it stopped.
   */
  async *taskEvents(taskId: string, options: { signal?: AbortSignal; lastEventId?: string } = {}): AsyncGenerator<TaskStreamEvent> {
    for await (const e of this.stream(`/v1/tasks/${encodeURIComponent(taskId)}/events`, options.lastEventId ?? null, options.signal)) {
      const event = { type: e.event as TaskStreamEvent['type'], id: e.id ?? '', task: JSON.parse(e.data) as TaskInfo };
      yield event;
      if (event.type === 'end') return;
    }
  }

  /** A task's log lines after `after` as they are written, until the task has ended (or `signal` aborts). */
  async *followLogs(taskId: string, options: { after?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const path = `/v1/tasks/${encodeURIComponent(taskId)}/logs${FerryClient.query({ follow: true, after: options.after })}`;
    for await (const e of this.stream(path, null, options.signal)) {
      if (e.event === 'end') return;
      if (e.event === 'log') yield JSON.parse(e.data) as LogLine;
    }
  }

  /** Deployment, instance and scaling events of the fleet, oldest first after `after`. */
  listEvents(filter: { after?: number; limit?: number; functionId?: string; versionId?: string } = {}): Promise<{ items: FleetEvent[]; next: number }> {
    return this.get(`/v1/events${FerryClient.query(filter)}`);
  }

  /** The fleet's events as they happen (after `after` when given, else from now on), until `signal` aborts. */
  async *fleetEvents(options: { after?: number; functionId?: string; versionId?: string; signal?: AbortSignal } = {}): AsyncGenerator<FleetEvent> {
    const { signal, ...filter } = options;
    for await (const e of this.stream(`/v1/events${FerryClient.query({ ...filter, follow: true })}`, null, signal)) yield JSON.parse(e.data) as FleetEvent;
  }

  /**
   * Reads a Server-Sent Events route. A dropped connection, an unreachable server (or a proxy's
   * 502/503/504) and an unavailable store are tried again with back-off (from 250 ms, doubling to
   * 5 s; given up after 8 failures in a row), resuming with `Last-Event-ID`; any other refusal or
   * `error` event throws FerryError.
   */
  private async *stream(path: string, lastEventId: string | null, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
    let resumeFrom = lastEventId;
    for (let failures = 0; !signal?.aborted; ) {
      // One controller per connection, linked to the caller's signal only while it is open, so a
      // long-lived signal does not collect a listener per reconnection.
      const connection = new AbortController();
      const cancel = (): void => connection.abort();
      signal?.addEventListener('abort', cancel, { once: true });
      let broke: FerryError;
      try {
        const res = await fetch(this.base + path, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', ...(resumeFrom === null ? {} : { 'last-event-id': resumeFrom }) },
          signal: connection.signal,
        });
        // 204: the stream has nothing more to say (it ended before this reconnection).
        if (res.status === 204) return;
        if (!res.ok || !res.body) await this.refused(res, path);
        for await (const e of readServerSentEvents(res.body!)) {
          failures = 0;
          if (e.event === 'error') throw apiError(res.status, JSON.parse(e.data), `the stream ${path} failed`);
          if (e.id !== null) resumeFrom = e.id;
          yield e;
        }
        // It ended before its last event (a server shutting down, say): resume where it stopped.
        broke = new FerryError('SERVER_UNREACHABLE', `the stream ${path} from ${this.base} ended early`);
      } catch (err) {
        if (signal?.aborted) return;
        broke = err instanceof FerryError ? err : new FerryError('SERVER_UNREACHABLE', `the stream ${path} from ${this.base} broke off: ${(err as Error).message}`, { cause: err });
        if (broke.code !== 'SERVER_UNREACHABLE' && broke.code !== 'STORE_UNAVAILABLE') throw broke;
      } finally {
        signal?.removeEventListener('abort', cancel);
        connection.abort();
      }
      if (++failures >= STREAM_TRIES) throw broke;
      await sleep(Math.min(5000, 250 * 2 ** failures), signal);
    }
  }

  queue(functionIdOrName: string, versionId?: string): Promise<QueueInfo> {
    const base = `/v1/functions/${encodeURIComponent(functionIdOrName)}`;
    return this.get(versionId ? `${base}/versions/${encodeURIComponent(versionId)}/queue` : `${base}/queue`);
  }
  nodes(): Promise<{ items: NodeInfo[] }> {
    return this.get('/v1/nodes');
  }
  gpus(): Promise<{ items: GpuTypeInfo[] }> {
    return this.get('/v1/gpus');
  }
  instances(options: { all?: boolean } = {}): Promise<{ items: InstanceInfo[] }> {
    return this.get(`/v1/instances${FerryClient.query(options)}`);
  }
  async createKey(name: string, scope: KeyInfo['scope'], options: { ttlSeconds?: number } = {}): Promise<KeyInfo> {
    return (await this.request<KeyInfo>('POST', '/v1/keys', { name, scope, ...options })).data;
  }
  /** Sets a tenant's rates (system admins). */
  async setQuotas(tenantId: string, quotas: TenantQuotas): Promise<{ tenantId: string; quotas: TenantQuotas }> {
    return (await this.request<{ tenantId: string; quotas: TenantQuotas }>('PUT', `/v1/tenants/${encodeURIComponent(tenantId)}/quotas`, quotas)).data;
  }
  /** The caller's tenant's rates. */
  async quotas(): Promise<{ tenantId: string; quotas: TenantQuotas }> {
    return (await this.request<{ tenantId: string; quotas: TenantQuotas }>('GET', '/v1/quotas')).data;
  }
  /** The tenant's changes, newest first (admins). */
  async audit(filter: { action?: string; keyId?: string; since?: string; until?: string; limit?: number; cursor?: string } = {}): Promise<Page<AuditEntryInfo>> {
    return (await this.request<Page<AuditEntryInfo>>('GET', `/v1/audit${queryString(filter)}`)).data;
  }
  /** The tenant's keys and node tokens, oldest first. */
  async listKeys(): Promise<KeyListing[]> {
    return (await this.request<{ items: KeyListing[] }>('GET', '/v1/keys')).data.items;
  }
  /** Revokes a key: every replica refuses it within a second. */
  async revokeKey(keyId: string): Promise<void> {
    await this.request('DELETE', `/v1/keys/${encodeURIComponent(keyId)}`);
  }
  /** A node token for `ferry agent` (system tenant admins only); the secret is shown once. */
  async createNodeToken(name = 'node'): Promise<{ id: string; name: string; token: string }> {
    return (await this.request<{ id: string; name: string; token: string }>('POST', '/v1/nodes/tokens', { name })).data;
  }
  async createTenant(name: string): Promise<{ id: string; name: string; adminKey: Omit<KeyInfo, 'name'> }> {
    return (await this.request<{ id: string; name: string; adminKey: Omit<KeyInfo, 'name'> }>('POST', '/v1/tenants', { name })).data;
  }
}
