import type { BrokerKind } from './triggers.js';
import type { TerminalTaskStatus } from './states.js';

/**
 * Where a task's outcome goes when it ends: a signed webhook, a broker message, or the next task
 * of another function (exactly one of the three fields is set). Set on a version (the default of
 * its tasks), over it on a trigger, and over both on a submit.
 */
export interface Destination {
  webhook?: { url: string; secret: string };
  publish?: { broker: BrokerKind; url: string; subject: string };
  /** `input` is a template over the ended task's outcome (see input-template.ts); by default the next task's input is the output. */
  function?: { functionId: string; versionId?: string; input?: unknown };
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
