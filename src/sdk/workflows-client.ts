import { queryString } from './query-string.js';
import type { ExecutionInfo, ExecutionStatus, ExecutionTaskInfo, HistoryEntryInfo, Page, StateMachine, WorkflowInfo, WorkflowVersionInfo } from './types.js';

/** How a FerryClient sends an API request (see FerryClient.request). */
type Send = <T>(method: string, path: string, body?: unknown) => Promise<{ data: T }>;

export interface RunOptions {
  input?: unknown;
  idempotencyKey?: string;
  versionId?: string;
  timeoutSeconds?: number;
}

const at = (id: string): string => encodeURIComponent(id);

/** Workflows and their executions through the API (`/v1/workflows`, `/v1/executions`). */
export class WorkflowsClient {
  constructor(private readonly send: Send) {}

  async create(req: { name: string; description?: string; definition: StateMachine }): Promise<WorkflowInfo> {
    return (await this.send<WorkflowInfo>('POST', '/v1/workflows', req)).data;
  }
  /** By id or name, with its newest version. */
  async get(idOrName: string): Promise<WorkflowInfo> {
    return (await this.send<WorkflowInfo>('GET', `/v1/workflows/${at(idOrName)}`)).data;
  }
  async list(page: { limit?: number; cursor?: string } = {}): Promise<Page<WorkflowInfo>> {
    return (await this.send<Page<WorkflowInfo>>('GET', `/v1/workflows${queryString(page)}`)).data;
  }
  async addVersion(idOrName: string, definition: StateMachine): Promise<WorkflowInfo> {
    return (await this.send<WorkflowInfo>('POST', `/v1/workflows/${at(idOrName)}/versions`, { definition })).data;
  }
  async versions(idOrName: string): Promise<WorkflowVersionInfo[]> {
    return (await this.send<{ items: WorkflowVersionInfo[] }>('GET', `/v1/workflows/${at(idOrName)}/versions`)).data.items;
  }
  async delete(idOrName: string): Promise<void> {
    await this.send('DELETE', `/v1/workflows/${at(idOrName)}`);
  }
  /** Starts an execution (stored with its first tasks before this returns). */
  async run(idOrName: string, options: RunOptions = {}): Promise<ExecutionInfo> {
    return (await this.send<ExecutionInfo>('POST', `/v1/workflows/${at(idOrName)}/executions`, options)).data;
  }
  async execution(executionId: string): Promise<ExecutionInfo> {
    return (await this.send<ExecutionInfo>('GET', `/v1/executions/${at(executionId)}`)).data;
  }
  /** Newest first. */
  async executions(filter: { workflow?: string; status?: ExecutionStatus[]; limit?: number; cursor?: string } = {}): Promise<Page<ExecutionInfo>> {
    const { status, ...rest } = filter;
    return (await this.send<Page<ExecutionInfo>>('GET', `/v1/executions${queryString({ ...rest, ...(status?.length ? { status: status.join(',') } : {}) })}`)).data;
  }
  /** Entries after `after` (a seq), in order; `nextAfter` is where the next page starts, null at the end. */
  async history(executionId: string, options: { after?: number; limit?: number } = {}): Promise<{ items: HistoryEntryInfo[]; nextAfter: number | null }> {
    return (await this.send<{ items: HistoryEntryInfo[]; nextAfter: number | null }>('GET', `/v1/executions/${at(executionId)}/history${queryString(options)}`)).data;
  }
  /** The tasks it started, in order (of the states of one name), each under its step, with its status and attempts. */
  async tasks(executionId: string, filter: { state?: string; limit?: number; cursor?: string } = {}): Promise<Page<ExecutionTaskInfo>> {
    return (await this.send<Page<ExecutionTaskInfo>>('GET', `/v1/executions/${at(executionId)}/tasks${queryString(filter)}`)).data;
  }
  async cancel(executionId: string): Promise<ExecutionInfo> {
    return (await this.send<ExecutionInfo>('POST', `/v1/executions/${at(executionId)}/cancel`)).data;
  }
}
