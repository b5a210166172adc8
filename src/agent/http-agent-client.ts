import type { AgentNotifications, AgentProtocol, ClaimRequest, HeldLeases, InstanceAssignment } from '../core/agent-protocol.js';
import type { AssetTransfer, OutputFileTerms } from '../core/assets.js';
import { sleep } from '../core/clock.js';
import type { AttemptOutcome } from '../core/completion.js';
import { FerryError } from '../core/errors.js';
import type { GpuDevice } from '../core/gpu-spec.js';
import type { LeaseReport, TaskLogLine, TaskProgress, TaskRecord, TaskRef } from '../core/types.js';
import { FerryClient } from '../sdk/client.js';
import { readServerSentEvents } from '../sdk/sse.js';

export interface HttpAgentClientOptions {
  /** Control-plane URLs: one behind a load balancer, or several replicas, tried in turn. */
  servers: string[];
  /** A node token (`ferry nodes token create`). */
  token: string;
  /** Back-off between tries of a call no server answered: from `minMs`, doubling up to `maxMs`. */
  backoff?: { minMs: number; maxMs: number };
  /** Told of each failed try, for the agent's log. */
  onRetry?: (err: FerryError, server: string) => void;
}

/** Slack over a claim's own wait before a request that got no answer is given up. */
const REQUEST_SLACK_MS = 15_000;

/**
 * The agent protocol over HTTP, for an agent on another machine. Every call goes out from the
 * agent (claims long-poll, pushes arrive on a stream it opens), so it works behind NAT. A call no
 * server answers (refused, reset, a replica restarting, the store briefly down: 503) is tried
 * again with back-off on the next server until it gets an answer or the client closes: results
 * are fenced by attempt in the store, so a repeated report is harmless.
 */
export class HttpAgentClient implements AgentProtocol {
  private readonly clients: FerryClient[];
  private current = 0;
  private readonly closed = new AbortController();
  private readonly backoff: { minMs: number; maxMs: number };

  constructor(private readonly options: HttpAgentClientOptions) {
    if (options.servers.length === 0) throw new FerryError('INVALID_REQUEST', '--server: give at least one control-plane URL');
    this.clients = options.servers.map((url) => new FerryClient(url, options.token));
    this.backoff = options.backoff ?? { minMs: 100, maxMs: 5_000 };
  }

  /** Stops every call in flight or waiting to be tried again, and the push stream. */
  close(): void {
    this.closed.abort();
  }

  async registerNode(node: { id: string; name: string; gpus: GpuDevice[] }): Promise<void> {
    await this.call('POST', '/v1/agent/nodes', node);
  }

  async assignments(nodeId: string): Promise<InstanceAssignment[]> {
    return (await this.call<{ items: InstanceAssignment[] }>('GET', `/v1/agent/nodes/${encodeURIComponent(nodeId)}/assignments`)).items;
  }

  async instanceEvent(instanceId: string, message: string): Promise<void> {
    await this.call('POST', `/v1/agent/instances/${encodeURIComponent(instanceId)}/events`, { message });
  }

  async instanceState(instanceId: string, to: 'IDLE' | 'STOPPED' | 'FAILED', reason: string | null): Promise<void> {
    await this.call('POST', `/v1/agent/instances/${encodeURIComponent(instanceId)}/state`, { to, reason });
  }

  async claim(request: ClaimRequest, signal?: AbortSignal): Promise<TaskRecord[]> {
    try {
      return (await this.call<{ items: TaskRecord[] }>('POST', '/v1/agent/claim', request, { signal, waitMs: request.waitMs })).items;
    } catch (err) {
      // Stopped waiting on purpose (drain, stop): nothing was asked for.
      if (signal?.aborted || this.closed.signal.aborted) return [];
      throw err;
    }
  }

  async heartbeat(nodeId: string, held: HeldLeases[]): Promise<LeaseReport> {
    return this.call<LeaseReport>('POST', `/v1/agent/nodes/${encodeURIComponent(nodeId)}/heartbeat`, { held });
  }

  async progress(ref: TaskRef, progress: TaskProgress): Promise<void> {
    await this.call('POST', `/v1/agent/tasks/${encodeURIComponent(ref.id)}/progress`, { attempt: ref.attempt, ...progress });
  }

  async inputAssets(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>): Promise<AssetTransfer[]> {
    const query = new URLSearchParams({ attempt: String(task.attempt), tenantId: task.tenantId });
    return (await this.call<{ items: AssetTransfer[] }>('GET', `/v1/agent/tasks/${encodeURIComponent(task.id)}/input-assets?${query}`)).items;
  }

  async createOutputAsset(task: Pick<TaskRecord, 'id' | 'attempt' | 'tenantId'>, file: OutputFileTerms): Promise<{ id: string; uploadUrl: string }> {
    return this.call('POST', `/v1/agent/tasks/${encodeURIComponent(task.id)}/output-assets`, { attempt: task.attempt, tenantId: task.tenantId, ...file });
  }

  async logs(ref: TaskRef, lines: Omit<TaskLogLine, 'seq' | 'attempt'>[]): Promise<void> {
    if (lines.length > 0) await this.call('POST', `/v1/agent/tasks/${encodeURIComponent(ref.id)}/logs`, { attempt: ref.attempt, lines });
  }

  async complete(ref: TaskRef, outcome: AttemptOutcome, next?: ClaimRequest): Promise<TaskRecord[]> {
    const body = { attempt: ref.attempt, outcome: { ...outcome, error: outcome.error ?? null }, next };
    return (await this.call<{ items: TaskRecord[] }>('POST', `/v1/agent/tasks/${encodeURIComponent(ref.id)}/complete`, body)).items;
  }

  /**
   * Opens the push stream and keeps it open: after each (re)connection the listener is told that
   * assignments changed, so whatever was pushed while the stream was down is read again.
   */
  subscribe(nodeId: string, listener: AgentNotifications): () => void {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.closed.signal]);
    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        const base = this.options.servers[this.current]!;
        try {
          const res = await fetch(`${base.replace(/\/+$/, '')}/v1/agent/nodes/${encodeURIComponent(nodeId)}/events`, {
            headers: { authorization: `Bearer ${this.options.token}`, accept: 'text/event-stream' },
            signal,
          });
          if (!res.ok || !res.body) throw new FerryError('SERVER_UNREACHABLE', `push stream: HTTP ${res.status} from ${base}`);
          failures = 0;
          listener.assignmentsChanged();
          for await (const { event, data } of readServerSentEvents(res.body)) {
            if (event === 'assignments') listener.assignmentsChanged();
            else if (event === 'cancel') listener.cancel(JSON.parse(data) as TaskRef);
          }
        } catch (err) {
          if (signal.aborted) return;
          this.options.onRetry?.(err instanceof FerryError ? err : new FerryError('SERVER_UNREACHABLE', (err as Error).message), base);
        }
        this.current = (this.current + 1) % this.clients.length;
        await sleep(this.delay(failures++), signal);
      }
    })();
    return () => stop.abort();
  }

  /** One call, tried until a server answers: a Ferry error is thrown, an unreachable server is not. */
  private async call<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<T> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.closed.signal]) : this.closed.signal;
    for (let failures = 0; ; failures++) {
      const index = this.current;
      try {
        const timeout = AbortSignal.timeout((options.waitMs ?? 0) + REQUEST_SLACK_MS);
        return (await this.clients[index]!.request<T>(method, path, body, {}, AbortSignal.any([signal, timeout]))).data;
      } catch (err) {
        const e = err instanceof FerryError ? err : new FerryError('INTERNAL', (err as Error).message, { cause: err });
        if (signal.aborted || !(e.code === 'SERVER_UNREACHABLE' || e.code === 'STORE_UNAVAILABLE')) throw e;
        this.options.onRetry?.(e, this.options.servers[index]!);
        // The next replica, if there is one; a store outage is the same on all, so just wait.
        if (e.code === 'SERVER_UNREACHABLE' && index === this.current) this.current = (index + 1) % this.clients.length;
        await sleep(this.delay(failures), signal);
        if (signal.aborted) throw e;
      }
    }
  }

  private delay(failures: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** failures);
  }
}
