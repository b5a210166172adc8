import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import { type DeliveryRecord, MAX_CHAIN_DEPTH, afterAttempt } from '../../core/destinations.js';
import { FerryError } from '../../core/errors.js';
import { renderTemplate } from '../../core/input-template.js';
import { secretKey, signWebhook } from '../../core/webhook-signature.js';
import type { Store } from '../../store/store.js';
import type { TasksService } from '../tasks-service.js';
import type { WorkflowsService } from '../workflows/workflows-service.js';
import type { SendResult, WebhookSender } from './webhook-sender.js';

/** Sends a broker message: the publish destinations' port (brokers/). */
/** What an attempt came to, with the task or execution it started. */
type Sent = SendResult & { resultTaskId?: string; resultExecutionId?: string };

export type Publish = (target: NonNullable<DeliveryRecord['destination']['publish']>, body: string, headers: Record<string, string>) => Promise<void>;

export interface DeliveryWorkerSettings {
  /** First back-off after a failed attempt; doubles per attempt, at most an hour. */
  deliveryRetryBaseMs: number;
  /** How often due deliveries are looked for when nothing woke the worker. */
  deliveryPollMs: number;
}

/** Deliveries attempted at once. */
const BATCH = 32;

/**
 * The leader's loop that sends due deliveries: a webhook (signed, Standard Webhooks, with the
 * delivery's id as `webhook-id` on every attempt), a broker message, or the next function's task
 * (made once: the delivery's id is its idempotency key). Every attempt is recorded with its
 * answer; a failed one is tried again after a back-off until the deadline, then the delivery is
 * DEAD. At least once: a crash after a send but before its record sends it again, with the same id.
 */
export class DeliveryWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: AbortController | null = null;

  constructor(
    private readonly store: Pick<Store, 'deliveries'>,
    private readonly tasks: TasksService,
    private readonly workflows: WorkflowsService,
    private readonly webhooks: WebhookSender,
    private readonly publish: Publish,
    private readonly clock: Clock,
    private readonly settings: DeliveryWorkerSettings,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = null;
  }

  /** New deliveries were stored: look for due ones now. */
  wake(): void {
    this.wakeUp?.abort();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let due: DeliveryRecord[] = [];
      let waitMs = this.settings.deliveryPollMs;
      try {
        due = await this.store.deliveries.dueDeliveries(this.clock.now(), BATCH);
        await Promise.all(due.map((d) => this.attempt(d)));
        if (due.length < BATCH) {
          const next = await this.store.deliveries.nextDeliveryAt();
          if (next !== null) waitMs = Math.min(waitMs, Math.max(0, next - this.clock.now()));
        }
      } catch (err) {
        this.onError(err);
      }
      if (due.length === BATCH) continue;
      this.wakeUp = new AbortController();
      await sleep(waitMs, undefined, { signal: this.wakeUp.signal }).catch(() => {});
      this.wakeUp = null;
    }
  }

  private async attempt(d: DeliveryRecord): Promise<void> {
    const at = this.clock.now();
    const result = await this.send(d).catch((err: unknown): Sent => ({ statusCode: null, error: (err as Error).message, final: false }));
    const failed = result.error === null ? null : { final: result.final };
    const update = afterAttempt(d, failed, this.clock.now(), this.settings.deliveryRetryBaseMs);
    await this.store.deliveries.recordDeliveryAttempt(
      d.id,
      { at, statusCode: result.statusCode, error: result.error, durationMs: this.clock.now() - at },
      { ...update, ...(result.resultTaskId ? { resultTaskId: result.resultTaskId } : {}), ...(result.resultExecutionId ? { resultExecutionId: result.resultExecutionId } : {}) },
    );
  }

  private async send(d: DeliveryRecord): Promise<Sent> {
    const { webhook, publish, function: next, workflow } = d.destination;
    if (webhook) {
      const headers = signWebhook(secretKey(webhook.secret), d.id, this.clock.now(), d.payload);
      return this.webhooks.send(webhook.url, { ...headers }, d.payload);
    }
    if (publish) {
      await this.publish(publish, d.payload, { 'webhook-id': d.id });
      return { statusCode: null, error: null, final: false };
    }
    if (d.depth >= MAX_CHAIN_DEPTH) return { statusCode: null, error: `a chain of function and workflow destinations ends at depth ${MAX_CHAIN_DEPTH}`, final: true };
    const { data } = JSON.parse(d.payload) as { data: Record<string, unknown> };
    try {
      if (workflow) {
        const { execution } = await this.workflows.startExecution(d.tenantId, workflow.workflowId, {
          ...(workflow.versionId ? { versionId: workflow.versionId } : {}),
          input: workflow.input === undefined ? data.output : renderTemplate(workflow.input, data),
          idempotencyKey: `delivery:${d.id}`,
        });
        return { statusCode: null, error: null, final: false, resultExecutionId: execution.id };
      }
      const { task } = await this.tasks.submit(d.tenantId, {
        functionId: next!.functionId,
        ...(next!.versionId ? { versionId: next!.versionId } : {}),
        input: next!.input === undefined ? data.output : renderTemplate(next!.input, data),
        idempotencyKey: `delivery:${d.id}`,
      });
      return { statusCode: null, error: null, final: false, resultTaskId: task.id };
    } catch (err) {
      // Refused for good when the input itself is refused; a function not deployed yet may be later.
      const final = err instanceof FerryError && (err.code === 'INVALID_REQUEST' || err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'FUNCTION_NOT_FOUND' || err.code === 'WORKFLOW_NOT_FOUND');
      return { statusCode: null, error: err instanceof Error ? err.message : String(err), final };
    }
  }
}
