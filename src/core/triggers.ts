import type { Destinations } from './destinations.js';
import type { TaskType } from './states.js';

/**
 * Triggers start tasks without a client: a schedule's ticks, a broker's messages, signed calls
 * from outside, assets becoming READY. Each event yields at most one task, whose idempotency key
 * is the event's own (the tick, the broker's message id, the webhook id, the asset), so an event
 * handled twice (a redelivery, a restart, two leaders for a moment) still makes one task.
 */
export const TRIGGER_KINDS = ['cron', 'nats', 'redis', 'amqp', 'mqtt', 'webhook', 'asset'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export const BROKER_KINDS = ['nats', 'redis', 'amqp', 'mqtt'] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];

/**
 * STARTING: a new broker trigger whose consumer has not yet connected (it reads what is published
 * from then on). ACTIVE: firing (or ready to, for webhooks). PAUSED: by its owner; nothing fires.
 * ERROR: it should fire but cannot (a broker down, its function gone); `lastError` says why, and
 * it is retried.
 */
export const TRIGGER_STATES = ['STARTING', 'ACTIVE', 'PAUSED', 'ERROR'] as const;
export type TriggerState = (typeof TRIGGER_STATES)[number];

/** What each task a trigger makes is submitted with. `input` is a template over the event (see input-template.ts). */
export interface TaskTemplate {
  input?: unknown;
  priority?: number;
  taskType?: TaskType;
  timeoutSeconds?: number;
  inputAssets?: string[];
}

export interface CronConfig {
  /** Five fields, or six with seconds first; `@daily` and the like. */
  schedule: string;
  /** An IANA time zone the schedule is read in. */
  timezone: string;
  /** Whether ticks missed while Ferry was down run once each when it is back (else they are skipped). */
  catchUp: boolean;
}

/** Where a broker trigger reads: the one field its kind names (see BROKER_ADDRESS_FIELD). */
export interface BrokerSource {
  url: string;
  subject?: string;
  stream?: string;
  queue?: string;
  topic?: string;
}

export interface WebhookConfig {
  /** `whsec_` and the base64 of the key, as Standard Webhooks writes it. */
  secret: string;
}

/** Which READY assets start a task: all of the tenant's, or those whose name or content type match. */
export interface AssetFilter {
  /** An exact name, or a pattern with `*` (output assets have names; uploads do not). */
  name?: string;
  /** An exact type, or `type/*`. */
  contentType?: string;
}

export type TriggerConfig =
  | { kind: 'cron'; cron: CronConfig }
  | { kind: BrokerKind; source: BrokerSource }
  | { kind: 'webhook'; webhook: WebhookConfig }
  | { kind: 'asset'; filter: AssetFilter };

/** The kind-specific parts, each optional: what a definition carries without knowing its kind. */
export interface TriggerParts {
  cron?: CronConfig;
  source?: BrokerSource;
  webhook?: WebhookConfig;
  filter?: AssetFilter;
}

export type TriggerRecord = TriggerConfig & {
  id: string;
  tenantId: string;
  name: string;
  /** What its events start: a function's task, or (with `workflowId`) a workflow's execution; exactly one is set. */
  functionId: string | null;
  workflowId: string | null;
  /** One version (of the function, or of the workflow); null: a deployed version at random, or the workflow's newest. */
  versionId: string | null;
  task: TaskTemplate;
  /** Destinations of the tasks it makes (over their version's defaults). */
  destinations: Destinations | null;
  state: TriggerState;
  lastFiredAt: number | null;
  lastError: string | null;
  /** Tasks it has made. */
  fired: number;
  /**
   * How far it has read, in its kind's terms: for cron the last tick handled (epoch ms), for asset
   * triggers the last asset seen; null before the first. Broker consumers keep theirs in the broker.
   */
  cursor: string | null;
  createdAt: number;
  updatedAt: number;
};

/** A trigger as its owner writes it (`POST /v1/triggers`); the API checks its shape. */
export interface TriggerInput {
  name: string;
  /** The function whose task each event starts, or `workflowId`: the workflow whose execution it starts. */
  functionId?: string;
  workflowId?: string;
  versionId?: string | null;
  kind: TriggerKind;
  schedule?: string;
  timezone?: string;
  catchUp?: boolean;
  source?: BrokerSource;
  secret?: string;
  filter?: AssetFilter;
  task?: TaskTemplate;
  destinations?: Destinations | null;
}

/** What `PATCH /v1/triggers/{id}` may change: any field but the kind. */
export type TriggerChanges = Partial<Omit<TriggerInput, 'kind'>>;

/** An event a trigger turns into a task. */
export interface TriggerEvent {
  /** Unique per event at its source: the task's idempotency key is made of it. */
  key: string;
  /** What the input template reads. */
  event: unknown;
  /** The input when the trigger has no template. */
  input: unknown;
  /** Input assets besides the template's (the asset that became READY). */
  inputAssets?: string[];
  /** The trigger's cursor once this event is handled. */
  cursor?: string;
}

/** The field of `source` that names where each broker kind reads from. */
export const BROKER_ADDRESS_FIELD = { nats: 'subject', redis: 'stream', amqp: 'queue', mqtt: 'topic' } as const satisfies Record<BrokerKind, keyof BrokerSource>;

/** The URL schemes each broker kind connects with. */
export const BROKER_SCHEMES: Record<BrokerKind, readonly string[]> = {
  nats: ['nats:', 'tls:'],
  redis: ['redis:', 'rediss:'],
  amqp: ['amqp:', 'amqps:'],
  mqtt: ['mqtt:', 'mqtts:'],
};

export function isBrokerKind(kind: TriggerKind): kind is BrokerKind {
  return (BROKER_KINDS as readonly string[]).includes(kind);
}

/** The idempotency key of the task an event makes: one task per event, however often it is handled. */
export function triggerTaskKey(triggerId: string, eventKey: string): string {
  return `trigger:${triggerId}:${eventKey}`;
}

/** Whether an asset is one the filter asks for. */
export function assetMatches(filter: AssetFilter, asset: { name: string | null; contentType: string }): boolean {
  if (filter.contentType !== undefined) {
    const wanted = filter.contentType.toLowerCase();
    const type = asset.contentType.toLowerCase().split(';')[0]!.trim();
    if (wanted.endsWith('/*') ? !type.startsWith(wanted.slice(0, -1)) : type !== wanted) return false;
  }
  if (filter.name !== undefined) {
    if (asset.name === null) return false;
    const pattern = new RegExp(`^${filter.name.split('*').map(escapeRegExp).join('.*')}$`);
    if (!pattern.test(asset.name)) return false;
  }
  return true;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
