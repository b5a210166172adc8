import { type TSchema, Type } from '@sinclair/typebox';
import { ASSET_ID, ASSET_STATUSES, CONTENT_TYPE_PATTERN } from '../core/assets.js';
import { LIMITS } from '../core/limits.js';
import { RUNTIME_TYPES } from '../core/runtime-types.js';
import { DestinationsBody } from './destination-schemas.js';
import { DEPLOYMENT_STATES, INSTANCE_STATES, SCOPES, TASK_STATUSES, TASK_TYPES } from '../core/states.js';

/**
 * Request and response schemas. The same objects validate requests (Ajv) and generate
 * `/openapi.json`, so the document cannot drift from what the server accepts.
 */
const strict = { additionalProperties: false } as const;
const Command = Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 256 });
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Timestamp = Nullable(Type.String({ format: 'date-time' }));

export const Name = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'lower case letters, digits and dashes; starts with a letter' });

export const VersionSpecBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('server'), Type.Literal('job')]),
    runtime: Type.Object(
      {
        type: Type.Union(RUNTIME_TYPES.map((t) => Type.Literal(t))),
        command: Type.Optional(Command),
        cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }))),
        image: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        pullPolicy: Type.Optional(Type.Union([Type.Literal('IfNotPresent'), Type.Literal('Always'), Type.Literal('Never')])),
      },
      strict,
    ),
    init: Type.Optional(Command),
    server: Type.Optional(
      Type.Object(
        {
          inferencePath: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
          healthPath: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
          startupTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
        },
        strict,
      ),
    ),
    job: Type.Optional(
      Type.Object({ command: Command, output: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('lastStdoutLine')])) }, strict),
    ),
    resources: Type.Optional(
      Type.Object(
        {
          gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
          gpuType: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' })),
          gpuMemoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
          cpus: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024 })),
          memoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
        },
        strict,
      ),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTimeoutSeconds })),
    maxQueuedSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.maxRetries })),
    stopGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    destinations: Type.Optional(DestinationsBody),
  },
  { ...strict, $id: 'VersionSpec' },
);

export const CreateFunctionBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
    version: VersionSpecBody,
  },
  strict,
);

export const DeploymentBody = Type.Object(
  {
    minInstances: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    maxInstances: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    targetPerInstance: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    scaleDownDelaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    scaleToZeroAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 604_800 })),
  },
  strict,
);

export const SubmitTaskBody = Type.Object(
  {
    functionId: Type.String({ minLength: 1, maxLength: 128 }),
    versionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    input: Type.Optional(Type.Unknown()),
    taskType: Type.Optional(Type.Union(TASK_TYPES.map((t) => Type.Literal(t)))),
    priority: Type.Optional(Type.Integer({ minimum: LIMITS.minPriority, maximum: LIMITS.maxPriority })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTimeoutSeconds })),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    inputAssets: Type.Optional(
      Type.Array(Type.String({ pattern: ASSET_ID.source }), { maxItems: LIMITS.maxInputAssets, uniqueItems: true, description: 'READY assets the task finds in its input-assets directory' }),
    ),
    destinations: Type.Optional(DestinationsBody),
  },
  strict,
);

export const SubmitBatchBody = Type.Object({ tasks: Type.Array(SubmitTaskBody, { minItems: 1, maxItems: LIMITS.maxBatchTasks }) }, strict);

export const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    scope: Type.Union(SCOPES.map((s) => Type.Literal(s))),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400, description: 'it expires this long after its creation (default: never)' })),
  },
  strict,
);
const Rate = (what: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: `${what} a second, per replica (burst: one second's worth)` }));
/** A tenant's quotas: the rates are kept; the limits on work and capacity are not there yet, and are refused by name. */
export const QuotasBody = Type.Object(
  {
    requestsPerSecond: Rate('calls of the tenant’s keys'),
    submitsPerSecond: Rate('tasks submitted (each of a batch), invokes and executions started'),
    ...Object.fromEntries(['queuedTasks', 'runningTasks', 'gpus', 'gpuMemoryMiB', 'assetBytes'].map((f) => [f, Type.Optional(Type.Integer({ minimum: 0, description: 'not available yet' }))])),
  },
  strict,
);
export const TenantParams = Type.Object({ tenantId: Type.String({ minLength: 1, maxLength: 128 }) });
export const KeyParams = Type.Object({ keyId: Type.String({ minLength: 1, maxLength: 128 }) });
export const CreateTenantBody = Type.Object({ name: Name }, strict);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxPageSize })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};
export const ListQuery = Type.Object(PageQuery, strict);
export const AuditQuery = Type.Object(
  {
    ...PageQuery,
    action: Type.Optional(Type.String({ maxLength: 256, description: 'a route, as entries name it: "DELETE /v1/functions/:functionId"' })),
    keyId: Type.Optional(Type.String({ maxLength: 128 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
  },
  strict,
);

export const CreateAssetBody = Type.Object(
  {
    contentType: Type.String({ pattern: CONTENT_TYPE_PATTERN, description: 'the MIME type downloads are served with' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    sizeBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'the upload must carry exactly this many bytes' })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'the upload must hash to this (hex SHA-256)' })),
    pinned: Type.Optional(Type.Boolean({ description: 'kept past its expiry' })),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400, description: `kept this long (default ${LIMITS.defaultAssetTtlSeconds} s)` })),
  },
  strict,
);
export const AssetListQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(Type.Union(ASSET_STATUSES.map((s) => Type.Literal(s)))), taskId: Type.Optional(Type.String({ maxLength: 128, description: 'only the output assets of this task' })) },
  strict,
);
/** The signed query of a transfer URL Ferry serves (see blobs/disk). */
export const TransferQuerySchema = Type.Object({ expires: Type.Optional(Type.String({ maxLength: 20 })), max: Type.Optional(Type.String({ maxLength: 20 })), sig: Type.Optional(Type.String({ maxLength: 100 })) }, strict);

export const TaskListQuery = Type.Object(
  {
    ...PageQuery,
    functionId: Type.Optional(Type.String({ maxLength: 128 })),
    versionId: Type.Optional(Type.String({ maxLength: 128 })),
    status: Type.Optional(Type.String({ pattern: `^(${TASK_STATUSES.join('|')})(,(${TASK_STATUSES.join('|')}))*$`, description: 'comma-separated statuses' })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time' })),
  },
  strict,
);

export const LogsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    follow: Type.Optional(Type.Boolean({ description: 'stream the lines as Server-Sent Events until the task ends' })),
  },
  strict,
);

export const TimelineQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'only samples taken at or after this time (default: the last hour)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many samples, the newest (default 2000)' })),
  },
  strict,
);

export const FleetEventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'only events after this sequence number' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    functionId: Type.Optional(Type.String({ maxLength: 128, description: 'function id or name' })),
    versionId: Type.Optional(Type.String({ maxLength: 128 })),
    follow: Type.Optional(Type.Boolean({ description: 'stream the events as Server-Sent Events' })),
  },
  strict,
);

export const UndeployQuery = Type.Object(
  {
    graceful: Type.Optional(Type.Boolean()),
    running: Type.Optional(Type.Union([Type.Literal('requeue'), Type.Literal('cancel')], { description: 'without graceful: what happens to running tasks' })),
  },
  strict,
);

const Id = (what: string) => Type.String({ minLength: 1, maxLength: 128, description: `${what} id` });
export const FunctionParams = Type.Object({ functionId: Type.String({ minLength: 1, maxLength: 128, description: 'function id or name' }) });
export const VersionParams = Type.Object({ functionId: FunctionParams.properties.functionId, versionId: Id('version') });
export const TaskParams = Type.Object({ taskId: Id('task') });
export const AssetParams = Type.Object({ assetId: Id('asset') });

export const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { $id: 'Error' },
);

/** A task of a batch as stored (or the earlier one of its idempotency key), or why it was not. */
export const BatchItemResponse = Type.Union([
  Type.Object({ id: Type.String(), status: Type.Union(TASK_STATUSES.map((s) => Type.Literal(s))), position: Type.Optional(Type.Integer()) }),
  Type.Object({ error: ErrorResponse.properties.error }),
]);

export const TaskError = Nullable(
  Type.Object({ code: Type.String(), message: Type.String(), exitCode: Type.Optional(Type.Integer()), httpStatus: Type.Optional(Type.Integer()) }),
);

export const TaskResponse = Type.Object(
  {
    id: Type.String(),
    functionId: Type.String(),
    versionId: Type.String(),
    taskType: Type.Union(TASK_TYPES.map((t) => Type.Literal(t))),
    status: Type.Union(TASK_STATUSES.map((s) => Type.Literal(s))),
    priority: Type.Integer(),
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    progressMessage: Nullable(Type.String()),
    partialOutput: Type.Unknown(),
    position: Type.Optional(Type.Integer({ description: 'tasks ahead in the queue, while QUEUED' })),
    attempt: Type.Integer(),
    maxAttempts: Type.Integer(),
    timeoutSeconds: Type.Integer(),
    instanceId: Nullable(Type.String()),
    nodeId: Nullable(Type.String()),
    idempotencyKey: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Timestamp,
    finishedAt: Timestamp,
    expiresAt: Type.String({ format: 'date-time' }),
    inputAssets: Type.Array(Type.String(), { description: 'asset ids the task holds as inputs' }),
    outputAssets: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), sizeBytes: Type.Integer(), contentType: Type.String() }), { description: 'files the attempt that succeeded left, as assets' }),
    input: Type.Optional(Type.Unknown()),
    output: Type.Optional(Type.Unknown()),
    error: TaskError,
  },
  { $id: 'Task', additionalProperties: true },
);

export const InstanceResponse = Type.Object(
  {
    id: Type.String(),
    functionId: Type.String(),
    versionId: Type.String(),
    nodeId: Type.String(),
    state: Type.Union(INSTANCE_STATES.map((s) => Type.Literal(s))),
    gpus: Type.Array(Type.Object({ index: Type.Integer(), type: Type.String(), memoryMiB: Type.Optional(Type.Integer()) })),
    activeTasks: Type.Integer(),
    reason: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    readyAt: Timestamp,
    endedAt: Timestamp,
  },
  { $id: 'Instance', additionalProperties: true },
);

export const DeploymentResponse = Type.Object(
  {
    functionId: Type.String(),
    versionId: Type.String(),
    state: Type.Union(DEPLOYMENT_STATES.map((s) => Type.Literal(s))),
    reason: Nullable(Type.String()),
    minInstances: Type.Integer(),
    maxInstances: Type.Integer(),
    targetPerInstance: Type.Integer(),
    scaleDownDelaySeconds: Type.Integer(),
    scaleToZeroAfterSeconds: Type.Integer(),
    instances: Type.Array(Type.Ref(InstanceResponse)),
    events: Type.Array(Type.Unknown()),
  },
  { $id: 'Deployment', additionalProperties: true },
);

/** Schemas referenced by `$ref` from routes; registered once with the server. */
export const SHARED_SCHEMAS = [ErrorResponse, TaskResponse, InstanceResponse, DeploymentResponse, VersionSpecBody];

/** Responses every authenticated route may give. */
export const errorResponses = {
  400: Type.Ref(ErrorResponse),
  401: Type.Ref(ErrorResponse),
  403: Type.Ref(ErrorResponse),
  404: Type.Ref(ErrorResponse),
};
