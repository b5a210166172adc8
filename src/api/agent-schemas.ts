import { type TSchema, Type } from '@sinclair/typebox';
import { LIMITS } from '../core/limits.js';

/**
 * Bodies of the agent routes (`/v1/agent/...`), which only node tokens reach. They are validated
 * like every other request, so a broken or hostile agent gets a 400 naming the field and never
 * writes a malformed result.
 */
const strict = { additionalProperties: false } as const;
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Attempt = Type.Integer({ minimum: 1 });
const TaskRefBody = Type.Object({ id: Id, attempt: Attempt }, strict);

export const NodeParams = Type.Object({ nodeId: Id }, strict);
export const InstanceParams = Type.Object({ instanceId: Id }, strict);
export const TaskParams = Type.Object({ taskId: Id }, strict);

export const RegisterNodeBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    gpus: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ minimum: 0, maximum: 1023 }),
          type: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
          memoryMiB: Type.Integer({ minimum: 0 }),
          uuid: Type.Optional(Type.String({ maxLength: 128 })),
        },
        strict,
      ),
      { maxItems: 1024 },
    ),
  },
  strict,
);

export const InstanceStateBody = Type.Object(
  { to: Type.Union([Type.Literal('IDLE'), Type.Literal('STOPPED'), Type.Literal('FAILED')]), reason: Nullable(Type.String({ maxLength: 4096 })) },
  strict,
);

export const InstanceEventBody = Type.Object({ message: Type.String({ minLength: 1, maxLength: 4096 }) }, strict);

export const ClaimBody = Type.Object(
  {
    instanceId: Id,
    versionId: Id,
    limit: Type.Integer({ minimum: 1, maximum: 1024 }),
    running: Type.Integer({ minimum: 0 }),
    waitMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
  },
  strict,
);
export const HeartbeatBody = Type.Object(
  { held: Type.Array(Type.Object({ instanceId: Id, tasks: Type.Array(TaskRefBody, { maxItems: 1024 }) }, strict), { maxItems: 4096 }) },
  strict,
);

export const InputAssetsQuery = Type.Object({ attempt: Attempt, tenantId: Type.String({ minLength: 1, maxLength: 128 }) }, strict);

export const OutputAssetBody = Type.Object(
  {
    attempt: Attempt,
    tenantId: Type.String({ minLength: 1, maxLength: 128 }),
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.String({ minLength: 1, maxLength: 300 }),
    sizeBytes: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  strict,
);

export const ProgressBody = Type.Object(
  {
    attempt: Attempt,
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    message: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
    partialOutput: Type.Optional(Type.Unknown()),
  },
  strict,
);

export const LogsBody = Type.Object(
  {
    attempt: Attempt,
    lines: Type.Array(
      Type.Object(
        {
          stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('system')]),
          text: Type.String({ maxLength: LIMITS.maxBodyBytes }),
          at: Type.Integer({ minimum: 0 }),
        },
        strict,
      ),
      { maxItems: 10_000 },
    ),
  },
  strict,
);

const TaskErrorBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 128 }),
    message: Type.String({ maxLength: 65_536 }),
    exitCode: Type.Optional(Type.Integer()),
    httpStatus: Type.Optional(Type.Integer()),
  },
  strict,
);

export const CompleteBody = Type.Object(
  {
    attempt: Attempt,
    outcome: Type.Object(
      {
        status: Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED'), Type.Literal('TIMED_OUT'), Type.Literal('CANCELLED')]),
        output: Type.Optional(Type.Unknown()),
        outputType: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
        outputAssets: Type.Optional(
          Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), name: Type.String({ minLength: 1, maxLength: 1024 }), sizeBytes: Type.Integer({ minimum: 0 }), contentType: Type.String({ minLength: 1, maxLength: 300 }) }, strict), { maxItems: 10_000 }),
        ),
        outputAsset: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        error: Type.Optional(Nullable(TaskErrorBody)),
      },
      strict,
    ),
    next: Type.Optional(ClaimBody),
  },
  strict,
);

export const CreateNodeTokenBody = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, strict);
