import type { Destinations } from './destinations.js';
import { invalid } from './errors.js';
import { checkTemplate } from './input-template.js';
import { BROKER_SCHEMES } from './triggers.js';
import { secretKey } from './webhook-signature.js';

/**
 * Checks what a schema cannot: a webhook URL is http(s) without credentials, its secret a
 * Standard Webhooks one, a publish URL of its broker's scheme, a function destination's input
 * or workflow destination's input template sound. Errors name the field under `field`. That a
 * function or workflow exists is the caller's check.
 */
export function checkDestinations(d: Destinations, field = 'destinations'): void {
  for (const event of ['onSuccess', 'onFailure'] as const) {
    const dest = d[event];
    if (!dest) continue;
    const at = `${field}.${event}`;
    if (dest.webhook) {
      const url = parseUrl(dest.webhook.url, `${at}.webhook.url`);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${at}.webhook.url: must be an http:// or https:// URL`);
      if (url.username || url.password) throw invalid(`${at}.webhook.url: must not carry credentials; the secret signs each request`);
      secretKey(dest.webhook.secret, `${at}.webhook.secret`);
    } else if (dest.publish) {
      const url = parseUrl(dest.publish.url, `${at}.publish.url`);
      const schemes = BROKER_SCHEMES[dest.publish.broker];
      if (!schemes.includes(url.protocol)) throw invalid(`${at}.publish.url: a ${dest.publish.broker} URL starts with ${schemes.map((s) => `${s}//`).join(' or ')}`);
    } else if (dest.function?.input !== undefined) {
      checkTemplate(dest.function.input, `${at}.function.input`);
    } else if (dest.workflow?.input !== undefined) {
      checkTemplate(dest.workflow.input, `${at}.workflow.input`);
    }
  }
}

function parseUrl(text: string, field: string): URL {
  try {
    return new URL(text);
  } catch {
    throw invalid(`${field}: "${text}" is not a URL`);
  }
}
