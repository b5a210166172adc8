import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, FerryError } from '../core/errors.js';

/** Fastify's own errors (body parsing, limits) mapped to Ferry's codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_REQUEST',
};

/** The API's single error handler: every failure leaves as `{"error": {"code", "message"}}`. */
export function errorHandler() {
  return (err: FastifyError | FerryError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    const e = toFerryError(err);
    if (e.status >= 500 && e.code !== 'STORE_UNAVAILABLE' && e.code !== 'TASK_FAILED' && e.code !== 'TASK_TIMED_OUT') {
      req.log.error({ err, method: req.method, url: req.url }, (err as Error).message);
    }
    if (e.code === 'STORE_UNAVAILABLE' || e.code === 'RATE_LIMITED') void reply.header('retry-after', '1');
    void reply.status(e.status).send({ error: e.toJSON() });
  };
}

export function toFerryError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  const fe = err as FastifyError & { validation?: unknown; validationContext?: string };
  if (fe.validation) return new FerryError('INVALID_REQUEST', fe.message);
  if (fe.code && FASTIFY_CODES[fe.code]) {
    const code = FASTIFY_CODES[fe.code]!;
    const message = code === 'PAYLOAD_TOO_LARGE' ? 'request body is too large' : fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `body: malformed JSON (${fe.message})` : fe.message;
    return new FerryError(code, message);
  }
  if (err instanceof SyntaxError && (fe.statusCode === 400 || /JSON/.test(err.message))) return new FerryError('INVALID_REQUEST', `body: malformed JSON (${err.message})`);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c] === fe.statusCode) ?? 'INVALID_REQUEST';
    return new FerryError(byStatus, fe.message);
  }
  if (isStoreDown(err)) return new FerryError('STORE_UNAVAILABLE', 'the store is unreachable; try again shortly', { cause: err });
  return new FerryError('INTERNAL', 'internal error', { cause: err });
}

function isStoreDown(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return ['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001'].some((c) => code.startsWith(c));
}
