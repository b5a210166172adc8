import { invalid } from './errors.js';
import { nestsDeeperThan } from './json-depth.js';
import { LIMITS } from './limits.js';
import type { TriggerEvent } from './triggers.js';

/*
 * Messages that start tasks (a broker's, a webhook's body) and the event they make (Node only: bytes are Buffers).
 */

/** A message that starts a task: from a broker, or a webhook's body. */
export interface TriggerMessage {
  body: Buffer;
  /** Its headers or properties. */
  headers: Record<string, string>;
  /** Its id at the source (the broker's message id, the webhook id): the event key. */
  id: string;
  /** Where it came from: a subject, stream, queue or topic; `webhook` for a call. */
  source: string;
}

/**
 * The event a message makes, its body parsed once: an input template reads `$.body` (its JSON,
 * else its text), `$.headers`, `$.id` and `$.source`; without a template the input is its JSON
 * when it parses, else its text with its headers alongside.
 */
export function messageEvent(m: TriggerMessage): TriggerEvent {
  const text = m.body.toString('utf8');
  if (nestsDeeperThan(text, LIMITS.maxJsonDepth)) throw invalid(`the message's body nests deeper than ${LIMITS.maxJsonDepth} levels`);
  let json: { value: unknown } | null = null;
  try {
    json = { value: JSON.parse(text) };
  } catch {
    // Not JSON: the text, and the headers with it.
  }
  return {
    key: m.id,
    event: { body: json ? json.value : text, headers: m.headers, id: m.id, source: m.source },
    input: json ? json.value : { text, headers: m.headers },
  };
}
