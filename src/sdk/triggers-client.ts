import { queryString } from './query-string.js';
import type { Page, TriggerChanges, TriggerFireInfo, TriggerInfo, TriggerInput } from './types.js';

/** How a FerryClient sends an API request (see FerryClient.request). */
type Send = <T>(method: string, path: string, body?: unknown) => Promise<{ data: T }>;

/** Triggers through the API: schedules, broker consumers, inbound webhooks and asset events that start tasks. */
export class TriggersClient {
  constructor(private readonly send: Send) {}

  /** Creates a trigger; a webhook trigger's answer carries its secret, and only this answer does. */
  async create(req: TriggerInput): Promise<TriggerInfo> {
    return (await this.send<TriggerInfo>('POST', '/v1/triggers', req)).data;
  }
  async get(triggerId: string): Promise<TriggerInfo> {
    return (await this.send<TriggerInfo>('GET', `/v1/triggers/${encodeURIComponent(triggerId)}`)).data;
  }
  async list(page: { limit?: number; cursor?: string } = {}): Promise<Page<TriggerInfo>> {
    return (await this.send<Page<TriggerInfo>>('GET', `/v1/triggers${queryString(page)}`)).data;
  }
  /** Changes the fields given (not the kind). */
  async update(triggerId: string, changes: TriggerChanges): Promise<TriggerInfo> {
    return (await this.send<TriggerInfo>('PATCH', `/v1/triggers/${encodeURIComponent(triggerId)}`, changes)).data;
  }
  async pause(triggerId: string): Promise<TriggerInfo> {
    return (await this.send<TriggerInfo>('POST', `/v1/triggers/${encodeURIComponent(triggerId)}/pause`)).data;
  }
  async resume(triggerId: string): Promise<TriggerInfo> {
    return (await this.send<TriggerInfo>('POST', `/v1/triggers/${encodeURIComponent(triggerId)}/resume`)).data;
  }
  async delete(triggerId: string): Promise<void> {
    await this.send('DELETE', `/v1/triggers/${encodeURIComponent(triggerId)}`);
  }
  /** The tasks it made, newest first. */
  async tasks(triggerId: string, page: { limit?: number; cursor?: string } = {}): Promise<Page<TriggerFireInfo>> {
    return (await this.send<Page<TriggerFireInfo>>('GET', `/v1/triggers/${encodeURIComponent(triggerId)}/tasks${queryString(page)}`)).data;
  }
}

