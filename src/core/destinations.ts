import { backoffMs } from './backoff.js';
import type { BrokerKind } from './triggers.js';
import type { TerminalTaskStatus } from './states.js';

/**
 * Where a task's outcome goes when it ends: a signed webhook, a broker message, the next task of
 * another function, or an execution of a workflow (exactly one of the fields is set). Set on a
 * version (the default of its tasks), over it on a trigger, and over both on a submit.
 */
export interface Destination {
  webhook?: { url: string; secret: string };
  publish?: { broker: BrokerKind; url: string; subject: string };
  /** `input` is a template over the ended task's outcome (see input-template.ts); by default the next task's input is the output. */
  function?: { functionId: string; versionId?: string; input?: unknown };
  /** The same for a workflow: `input` (a template, or the output) is its execution's input. */
  workflow?: { workflowId: string; versionId?: string; input?: unknown };
}

export interface Destinations {
  onSuccess?: Destination;
  /** On FAILED, TIMED_OUT and EXPIRED; on CANCELLED too only with `includeCancelled`. */
  onFailure?: Destination;
  includeCancelled?: boolean;
  /** How long a delivery is retried before it is kept as dead (default 24). */
  maxDeliveryHours?: number;
}

export const DEFAULT_MAX_DELIVERY_HOURS = 24;

/** Which of a task's destinations its end goes to, if any. */
export function destinationFor(destinations: Destinations, status: TerminalTaskStatus): { event: 'success' | 'failure'; destination: Destination } | null {
  if (status === 'SUCCEEDED') return destinations.onSuccess ? { event: 'success', destination: destinations.onSuccess } : null;
  if (status === 'CANCELLED' && !destinations.includeCancelled) return null;
  return destinations.onFailure ? { event: 'failure', destination: destinations.onFailure } : null;
}

/** A destination over its defaults, field by field (`onSuccess` of the task over the trigger's over the version's…). */
export function mergeDestinations(...layers: (Destinations | null | undefined)[]): Destinations | null {
  const merged: Destinations = {};
  for (const layer of layers) if (layer) Object.assign(merged, layer);
  return Object.keys(merged).length > 0 ? merged : null;
}

/** Chains of function (and workflow) destinations end here: a task this deep sends its outcome to no further task or execution. */
export const MAX_CHAIN_DEPTH = 8;

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryKind = keyof Destination;

/**
 * One outcome on its way to one destination: tried until it is delivered or its deadline passes
 * (then DEAD, and kept), with the same id on every attempt (a webhook's `webhook-id`) and the same
 * payload, built once when the outcome was read.
 */
export interface DeliveryRecord {
  /** `dlv_` and the outcome's id: one delivery per final outcome, however often the feed hands it over. */
  id: string;
  tenantId: string;
  taskId: string;
  event: 'success' | 'failure';
  kind: DeliveryKind;
  destination: Destination;
  /** The body sent (JSON text): see outcomePayload. */
  payload: string;
  /** How many function destinations led to the task: 0 for a task a client or a trigger made. */
  depth: number;
  status: DeliveryStatus;
  attempts: number;
  /** While PENDING: when the next attempt is due. */
  nextAttemptAt: number | null;
  /** No attempt starts after this. */
  deadline: number;
  lastError: string | null;
  lastStatusCode: number | null;
  /** A function destination's task, once made. */
  resultTaskId: string | null;
  /** A workflow destination's execution, once started. */
  resultExecutionId: string | null;
  createdAt: number;
  /** When it was delivered or given up. */
  endedAt: number | null;
}

export interface DeliveryAttempt {
  at: number;
  /** The HTTP status a webhook answered; null when no answer came (or for other kinds). */
  statusCode: number | null;
  /** Why the attempt failed; null when it succeeded. */
  error: string | null;
  durationMs: number;
}

export function deliveryId(outcomeId: string): string {
  return `dlv_${outcomeId}`;
}

/** The kind of a destination: the one field it sets. */
export function deliveryKind(d: Destination): DeliveryKind {
  return d.webhook ? 'webhook' : d.publish ? 'publish' : d.function ? 'function' : 'workflow';
}

/** What an attempt leads to: delivered, tried again at `next`, or dead (the deadline would pass, or the failure is final). */
export function afterAttempt(d: Pick<DeliveryRecord, 'attempts' | 'deadline'>, failed: { final: boolean } | null, now: number, baseMs: number): { status: DeliveryStatus; nextAttemptAt: number | null } {
  if (!failed) return { status: 'DELIVERED', nextAttemptAt: null };
  // From `baseMs`, doubling per attempt, at most an hour.
  const next = now + backoffMs(d.attempts + 1, baseMs, 3_600_000);
  if (failed.final || next > d.deadline) return { status: 'DEAD', nextAttemptAt: null };
  return { status: 'PENDING', nextAttemptAt: next };
}
