import { FerryError, isErrorCode } from '../core/errors.js';
import { isTerminalTask } from '../core/states.js';
import type { ScalingSettings } from '../core/types.js';
import type { VersionSpecInput } from '../core/version-spec.js';
import type {
  CreateFunctionRequest,
  DeploymentInfo,
  FunctionInfo,
  GpuTypeInfo,
  InstanceInfo,
  KeyInfo,
  LogLine,
  NodeInfo,
  Page,
  QueueInfo,
  SubmitRequest,
  TaskInfo,
  VersionInfo,
} from './types.js';

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
}

/**
 * A typed client for every route of the Ferry API. Errors come back as the same FerryError
 * class the server throws, with its stable `code`.
 */
export class FerryClient {
  private readonly base: string;

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
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      if (res.ok) throw new FerryError('INTERNAL', `Ferry at ${this.base} answered ${method} ${path} with something that is not JSON`);
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
      const gateway = res.status === 502 || res.status === 503 || res.status === 504;
      const code = e?.code && isErrorCode(e.code) ? e.code : gateway ? 'SERVER_UNREACHABLE' : res.status === 404 ? 'NOT_FOUND' : 'INTERNAL';
      throw new FerryError(code, e?.message ?? `HTTP ${res.status} from ${this.base}`, e?.details ? { details: e.details } : undefined);
    }
    return { status: res.status, data: data as T, headers: res.headers };
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
    const res = await this.request<unknown>('POST', path, input ?? null, headers);
    const taskId = res.headers.get('ferry-task-id') ?? '';
    if (res.status === 200) return { done: true, taskId, output: res.data };
    return { done: false, taskId, task: res.data as TaskInfo };
  }

  async submit(req: SubmitRequest): Promise<TaskInfo> {
    return (await this.request<TaskInfo>('POST', '/v1/tasks', req)).data;
  }
  getTask(taskId: string): Promise<TaskInfo> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}`);
  }
  listTasks(filter: { functionId?: string; versionId?: string; status?: string; createdAfter?: string; createdBefore?: string; limit?: number; cursor?: string } = {}): Promise<Page<TaskInfo>> {
    return this.get(`/v1/tasks${FerryClient.query(filter)}`);
  }
  async cancelTask(taskId: string): Promise<TaskInfo> {
    return (await this.request<TaskInfo>('POST', `/v1/tasks/${encodeURIComponent(taskId)}/cancel`)).data;
  }
  taskOutput(taskId: string): Promise<unknown> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/output`);
  }
  taskLogs(taskId: string, after = 0): Promise<{ taskId: string; status: TaskInfo['status']; lines: LogLine[]; next: number }> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/logs${FerryClient.query({ after })}`);
  }
  taskPosition(taskId: string): Promise<{ taskId: string; status: TaskInfo['status']; position: number | null }> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/position`);
  }

  /** Polls a task until it ends or `timeoutMs` passes, calling `onUpdate` on each change. */
  async wait(taskId: string, options: { timeoutMs?: number; intervalMs?: number; onUpdate?: (task: TaskInfo) => void } = {}): Promise<TaskInfo> {
    const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
    let last = '';
    for (;;) {
      const task = await this.getTask(taskId);
      const key = `${task.status}/${task.progress}/${task.position}/${task.attempt}`;
      if (key !== last) options.onUpdate?.(task);
      last = key;
      if (isTerminalTask(task.status) || Date.now() >= deadline) return task;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
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
  async createKey(name: string, scope: KeyInfo['scope']): Promise<KeyInfo> {
    return (await this.request<KeyInfo>('POST', '/v1/keys', { name, scope })).data;
  }
  /** A node token for `ferry agent` (system tenant admins only); the secret is shown once. */
  async createNodeToken(name = 'node'): Promise<{ id: string; name: string; token: string }> {
    return (await this.request<{ id: string; name: string; token: string }>('POST', '/v1/nodes/tokens', { name })).data;
  }
  async createTenant(name: string): Promise<{ id: string; name: string; adminKey: Omit<KeyInfo, 'name'> }> {
    return (await this.request<{ id: string; name: string; adminKey: Omit<KeyInfo, 'name'> }>('POST', '/v1/tenants', { name })).data;
  }
}
