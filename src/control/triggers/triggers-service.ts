import type { Clock } from '../../core/clock.js';
import { CronSchedule } from '../../core/cron-schedule.js';
import { FerryError, invalid } from '../../core/errors.js';
import { ID_PREFIX, keyWithin, newId } from '../../core/ids.js';
import { checkTemplate, renderTemplate } from '../../core/input-template.js';
import {
  BROKER_ADDRESS_FIELD,
  BROKER_SCHEMES,
  type BrokerSource,
  type TriggerChanges,
  type TriggerEvent,
  type TriggerInput,
  type TriggerKind,
  type TriggerParts,
  type TriggerRecord,
  isBrokerKind,
  triggerTaskKey,
} from '../../core/triggers.js';
import { type TriggerMessage, messageEvent } from '../../core/trigger-messages.js';
import type { Page, SubmitRequest } from '../../core/types.js';
import { newSecret, secretKey, verifyWebhook } from '../../core/webhook-signature.js';
import type { PageRequest } from '../../store/paging.js';
import type { Store } from '../../store/store.js';
import type { TriggerDefinition, TriggerFire } from '../../store/trigger-store.js';
import type { FunctionsService } from '../functions-service.js';
import type { TasksService, TaskView } from '../tasks-service.js';
import type { Wakeups } from '../wakeups/wakeups.js';
import type { ExecutionRecord } from '../../core/workflows/workflow.js';
import type { WorkflowsService } from '../workflows/workflows-service.js';

/** What a fire started, once: a function's task, or a workflow's execution. */
export type Fired = ({ task: TaskView; execution?: undefined } | { task?: undefined; execution: ExecutionRecord }) & { created: boolean };

/** How many of a cron trigger's next ticks its view shows. */
const NEXT_FIRES = 5;
/** Event keys longer than this are hashed into the idempotency key (whose limit is 256). */
const MAX_EVENT_KEY = 200;

/** Triggers' definitions, and the one way any of them makes a task (`fire`). */
export class TriggersService {
  constructor(
    private readonly store: Pick<Store, 'triggers'>,
    private readonly functions: FunctionsService,
    private readonly tasks: TasksService,
    private readonly workflows: WorkflowsService,
    private readonly wakeups: Wakeups,
    private readonly clock: Clock,
  ) {}

  /** Creates a trigger (ACTIVE); a webhook trigger given no secret gets a new one, shown in its view. */
  async create(tenantId: string, input: TriggerInput): Promise<TriggerRecord> {
    const now = this.clock.now();
    const definition = await this.definition(tenantId, input.kind, input);
    const trigger = {
      ...definition,
      id: newId(ID_PREFIX.trigger, now),
      tenantId,
      kind: input.kind,
      state: isBrokerKind(input.kind) ? 'STARTING' : 'ACTIVE',
      lastFiredAt: null,
      lastError: null,
      fired: 0,
      cursor: null,
      createdAt: now,
      updatedAt: now,
    } as TriggerRecord;
    await this.store.triggers.createTrigger(trigger);
    this.changed();
    return trigger;
  }

  async get(tenantId: string, triggerId: string): Promise<TriggerRecord> {
    const trigger = await this.store.triggers.getTrigger(tenantId, triggerId);
    if (!trigger) throw notFound(triggerId);
    return trigger;
  }

  list(tenantId: string, page: PageRequest): Promise<Page<TriggerRecord>> {
    return this.store.triggers.listTriggers(tenantId, page);
  }

  /** Changes the fields given; the rest, the state and the fires stay. */
  async update(tenantId: string, triggerId: string, changes: TriggerChanges): Promise<TriggerRecord> {
    const current = await this.get(tenantId, triggerId);
    const { functionId, workflowId, ...kept } = asInput(current);
    // A change of what it starts replaces it: a function for a workflow, or the other way.
    const target = changes.functionId === undefined && changes.workflowId === undefined ? { functionId, workflowId } : {};
    const merged: TriggerInput = { ...kept, ...target, ...changes, kind: current.kind };
    const definition = await this.definition(tenantId, current.kind, merged);
    const updated = await this.store.triggers.updateTrigger(tenantId, triggerId, definition, this.clock.now());
    if (!updated) throw notFound(triggerId);
    this.changed();
    return updated;
  }

  async setPaused(tenantId: string, triggerId: string, paused: boolean): Promise<TriggerRecord> {
    const trigger = await this.store.triggers.setTriggerPaused(tenantId, triggerId, paused, this.clock.now());
    if (!trigger) throw notFound(triggerId);
    this.changed();
    return trigger;
  }

  async delete(tenantId: string, triggerId: string): Promise<void> {
    if (!(await this.store.triggers.deleteTrigger(tenantId, triggerId))) throw notFound(triggerId);
    this.changed();
  }

  async fires(tenantId: string, triggerId: string, page: PageRequest): Promise<Page<TriggerFire>> {
    await this.get(tenantId, triggerId);
    return this.store.triggers.listFires(triggerId, page);
  }

  /** A cron trigger's next ticks (epoch ms); none for other kinds and for a paused one. */
  nextFires(trigger: TriggerRecord): number[] {
    if (trigger.kind !== 'cron' || trigger.state === 'PAUSED') return [];
    return new CronSchedule(trigger.cron.schedule, trigger.cron.timezone).upcoming(this.clock.now(), NEXT_FIRES);
  }

  /**
   * Makes the event's task (or execution, for a trigger of a workflow), once: an event handled
   * again (a redelivery, a restart) finds what it made before, by its idempotency key, and
   * `created` is false. The fire is recorded either way. Throws what the submit throws (the
   * function not deployed, the store unreachable…).
   */
  async fire(trigger: TriggerRecord, e: TriggerEvent): Promise<Fired> {
    const t = trigger.task;
    const input = t.input === undefined ? e.input : renderTemplate(t.input, e.event);
    const idempotencyKey = triggerTaskKey(trigger.id, keyWithin(e.key, MAX_EVENT_KEY));
    const fired = trigger.workflowId ? await this.startExecution(trigger, trigger.workflowId, input, idempotencyKey) : await this.submit(trigger, trigger.functionId!, e, input, idempotencyKey);
    await this.store.triggers.recordFire({ triggerId: trigger.id, eventKey: e.key, taskId: (fired.task ?? fired.execution).id, at: this.clock.now() }, e.cursor);
    return fired;
  }

  private async submit(trigger: TriggerRecord, functionId: string, e: TriggerEvent, input: unknown, idempotencyKey: string): Promise<Fired> {
    const t = trigger.task;
    const inputAssets = [...(t.inputAssets ?? []), ...(e.inputAssets ?? [])];
    const req: SubmitRequest = {
      functionId,
      ...(trigger.versionId ? { versionId: trigger.versionId } : {}),
      input,
      ...(t.taskType ? { taskType: t.taskType } : {}),
      ...(t.priority !== undefined ? { priority: t.priority } : {}),
      ...(t.timeoutSeconds !== undefined ? { timeoutSeconds: t.timeoutSeconds } : {}),
      ...(inputAssets.length > 0 ? { inputAssets: [...new Set(inputAssets)] } : {}),
      idempotencyKey,
      ...(trigger.destinations ? { destinations: trigger.destinations } : {}),
    };
    try {
      return await this.tasks.submit(trigger.tenantId, req);
    } catch (err) {
      // The event made a task before, under a template since changed: that task is its task.
      if (!(err instanceof FerryError && err.code === 'IDEMPOTENCY_KEY_REUSED')) throw err;
      return { task: await this.tasks.get(trigger.tenantId, err.details!.taskId as string), created: false };
    }
  }

  private async startExecution(trigger: TriggerRecord, workflowId: string, input: unknown, idempotencyKey: string): Promise<Fired> {
    const t = trigger.task;
    try {
      return await this.workflows.startExecution(trigger.tenantId, workflowId, {
        input,
        idempotencyKey,
        ...(trigger.versionId ? { versionId: trigger.versionId } : {}),
        ...(t.timeoutSeconds !== undefined ? { timeoutSeconds: t.timeoutSeconds } : {}),
      });
    } catch (err) {
      if (!(err instanceof FerryError && err.code === 'IDEMPOTENCY_KEY_REUSED')) throw err;
      return { execution: await this.workflows.execution(trigger.tenantId, err.details!.executionId as string), created: false };
    }
  }

  /**
   * A call to a webhook trigger (`POST /v1/hooks/{triggerId}`), from outside: verified with the
   * trigger's secret in the Standard Webhooks scheme, then fired with its webhook id as the event
   * key. A second call with the same id is refused (WEBHOOK_REPLAYED, naming the first's task).
   */
  async receiveWebhook(triggerId: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<Fired> {
    const trigger = await this.store.triggers.triggerById(triggerId);
    if (!trigger || trigger.kind !== 'webhook') throw notFound(triggerId);
    const refused = verifyWebhook(secretKey(trigger.webhook.secret), headers, body, this.clock.now());
    if (refused) throw new FerryError('UNAUTHENTICATED', `the webhook does not verify: ${refused}`);
    if (trigger.state === 'PAUSED') throw new FerryError('TRIGGER_PAUSED', `trigger ${trigger.name} is paused; send again once it is resumed`);
    const id = headers['webhook-id'];
    const message: TriggerMessage = { body, headers: textHeaders(headers), id: Array.isArray(id) ? id[0]! : id!, source: 'webhook' };
    const fired = await this.fire(trigger, messageEvent(message));
    if (!fired.created) {
      const first = fired.task ? { taskId: fired.task.id } : { executionId: fired.execution.id };
      throw new FerryError('WEBHOOK_REPLAYED', `webhook ${message.id} was received before (${fired.task ? `task ${fired.task.id}` : `execution ${fired.execution.id}`})`, { details: first });
    }
    return fired;
  }

  /** Tells the leader's runners that a definition changed, wherever they run. */
  private changed(): void {
    this.wakeups.emit({ kind: 'triggers' });
  }

  /** The stored definition of an input, every field checked; errors name the field. */
  private async definition(tenantId: string, kind: TriggerKind, input: TriggerInput): Promise<TriggerDefinition> {
    if ((input.functionId === undefined) === (input.workflowId === undefined)) throw invalid('functionId or workflowId: give exactly one (what each event starts)');
    const versionId = input.versionId ?? null;
    const task = input.task ?? {};
    if (task.input !== undefined) checkTemplate(task.input, 'task.input');
    const parts = kindParts(kind, input);
    if (input.workflowId !== undefined) {
      const workflow = await this.workflows.get(tenantId, input.workflowId);
      if (versionId !== null) await this.workflows.version(tenantId, workflow.id, versionId);
      // An execution has an input and a timeout; the rest is its tasks' (their functions', their states').
      const foreign = (['priority', 'taskType', 'inputAssets'] as const).find((f) => task[f] !== undefined);
      if (foreign) throw invalid(`task.${foreign}: not for a trigger of a workflow (its Task states set their tasks')`);
      if (input.destinations) throw invalid("destinations: not for a trigger of a workflow (its tasks' functions have their own)");
      return { name: input.name, functionId: null, workflowId: workflow.id, versionId, task, destinations: null, ...parts };
    }
    const fn = await this.functions.get(tenantId, input.functionId!);
    if (versionId !== null) await this.functions.versionOf(fn, versionId);
    const destinations = input.destinations ? await this.functions.checkDestinations(tenantId, input.destinations, 'destinations') : null;
    return { name: input.name, functionId: fn.id, workflowId: null, versionId, task, destinations, ...parts };
  }
}

/** The kind's own part of a trigger; a field of another kind is refused, so a typo is not silently ignored. */
function kindParts(kind: TriggerKind, input: TriggerInput): TriggerParts {
  const given = (['schedule', 'timezone', 'catchUp', 'source', 'secret', 'filter'] as const).filter((f) => input[f] !== undefined);
  const allowed: readonly string[] = kind === 'cron' ? ['schedule', 'timezone', 'catchUp'] : isBrokerKind(kind) ? ['source'] : kind === 'webhook' ? ['secret'] : ['filter'];
  const foreign = given.find((f) => !allowed.includes(f));
  if (foreign) throw invalid(`${foreign}: not a field of a ${kind} trigger`);
  if (kind === 'cron') {
    if (!input.schedule) throw invalid('schedule: required for a cron trigger');
    const timezone = input.timezone ?? 'UTC';
    new CronSchedule(input.schedule, timezone);
    return { cron: { schedule: input.schedule, timezone, catchUp: input.catchUp ?? false } };
  }
  if (isBrokerKind(kind)) {
    const source = input.source;
    if (!source) throw invalid(`source: required for a ${kind} trigger`);
    let url: URL;
    try {
      url = new URL(source.url);
    } catch {
      throw invalid(`source.url: "${source.url}" is not a URL`);
    }
    if (!BROKER_SCHEMES[kind].includes(url.protocol)) throw invalid(`source.url: a ${kind} URL starts with ${BROKER_SCHEMES[kind].map((s) => `${s}//`).join(' or ')}`);
    const field = BROKER_ADDRESS_FIELD[kind];
    if (!source[field]) throw invalid(`source.${field}: required for a ${kind} trigger`);
    const other = (Object.values(BROKER_ADDRESS_FIELD) as string[]).find((f) => f !== field && source[f as keyof BrokerSource] !== undefined);
    if (other) throw invalid(`source.${other}: not a field of a ${kind} source (it reads source.${field})`);
    return { source: { url: source.url, [field]: source[field] } };
  }
  if (kind === 'webhook') {
    const secret = input.secret ?? newSecret();
    secretKey(secret, 'secret');
    return { webhook: { secret } };
  }
  return { filter: input.filter ?? {} };
}

/** A stored trigger as the input that would define it again, for an update of some of its fields. */
function asInput(t: TriggerRecord): TriggerInput {
  const target = t.workflowId ? { workflowId: t.workflowId } : { functionId: t.functionId! };
  const base: TriggerInput = { name: t.name, ...target, versionId: t.versionId, kind: t.kind, task: t.task, destinations: t.destinations };
  if (t.kind === 'cron') return { ...base, schedule: t.cron.schedule, timezone: t.cron.timezone, catchUp: t.cron.catchUp };
  if (t.kind === 'webhook') return { ...base, secret: t.webhook.secret };
  if (t.kind === 'asset') return { ...base, filter: t.filter };
  return { ...base, source: t.source };
}

function notFound(triggerId: string): FerryError {
  return new FerryError('TRIGGER_NOT_FOUND', `trigger ${triggerId} not found`);
}

/** Headers a task may see: the caller's own, without the hop's (authorization, cookies) and with one value each. */
function textHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'authorization' || name === 'cookie') continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
