/*
 * Messages that start tasks (a broker's, a webhook's body) and the input they give (Node only: bytes are Buffers).
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
 * A message as the task's input when the trigger has no input template: its JSON when it
 * parses, else its text with its headers alongside.
 */
export function messageInput(m: TriggerMessage): unknown {
  const text = m.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return { text, headers: m.headers };
  }
}

/** What an input template reads of a message: `$.body` (its JSON, else its text), `$.headers`, `$.id`, `$.source`. */
export function messageEvent(m: TriggerMessage): Record<string, unknown> {
  const text = m.body.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the template reads the text.
  }
  return { body, headers: m.headers, id: m.id, source: m.source };
}
