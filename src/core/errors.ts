/**
 * Every error Ferry reports, with its stable code and HTTP status. The API has one error handler
 * that turns a FerryError into `{"error": {"code", "message"}}`; the SDK rebuilds the same class
 * from the code.
 */
export const ERROR_CODES = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  KEY_REVOKED: 401,
  KEY_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  FUNCTION_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  DEPLOYMENT_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  ASSET_NOT_FOUND: 404,
  TRIGGER_NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  EXECUTION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  FUNCTION_EXISTS: 409,
  TENANT_EXISTS: 409,
  VERSION_DEPLOYED: 409,
  FUNCTION_DEPLOYED: 409,
  NOT_DEPLOYED: 409,
  NODE_LOST: 409,
  TASK_NOT_CANCELLABLE: 409,
  TASK_OUTPUT_UNAVAILABLE: 409,
  TASK_CANCELLED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  ASSET_IN_USE: 409,
  ASSET_NOT_READY: 409,
  ASSET_READY: 409,
  ASSET_UPLOADING: 409,
  TRIGGER_EXISTS: 409,
  TRIGGER_PAUSED: 409,
  WEBHOOK_REPLAYED: 409,
  WORKFLOW_EXISTS: 409,
  WORKFLOW_RUNNING: 409,
  EXECUTION_ENDED: 409,
  TASK_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  TASK_FAILED: 502,
  STORE_UNAVAILABLE: 503,
  // Raised by the SDK when no server answers at all.
  SERVER_UNREACHABLE: 503,
  TASK_TIMED_OUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options?.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

export function invalid(message: string): FerryError {
  return new FerryError('INVALID_REQUEST', message);
}

export function tenantExists(name: string): FerryError {
  return new FerryError('TENANT_EXISTS', `a tenant named "${name}" already exists`);
}

export function workflowExists(name: string): FerryError {
  return new FerryError('WORKFLOW_EXISTS', `a workflow named "${name}" already exists`);
}

export function workflowRunning(): FerryError {
  return new FerryError('WORKFLOW_RUNNING', 'the workflow has running executions: cancel them, or wait for them to end, before deleting it');
}

export function triggerExists(name: string): FerryError {
  return new FerryError('TRIGGER_EXISTS', `a trigger named "${name}" already exists`);
}
