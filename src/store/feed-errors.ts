import { FerryError } from '../core/errors.js';

/** A consumer name the feed does not know: it must register first. */
export function unknownConsumer(name: string): FerryError {
  return new FerryError('NOT_FOUND', `no outcome feed consumer is registered as "${name}"`);
}
