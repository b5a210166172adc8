import { Type } from '@sinclair/typebox';
import { ASSET_ID } from '../core/assets.js';
import { LIMITS } from '../core/limits.js';
import { TASK_TYPES } from '../core/states.js';
import { TRIGGER_KINDS } from '../core/triggers.js';
import { DestinationsBody } from './destination-schemas.js';
import { Name } from './schemas.js';

/** Schemas of `/v1/triggers` (kept apart from schemas.ts, which holds the core resources). */
const strict = { additionalProperties: false } as const;
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

const TaskTemplateBody = Type.Object(
  {
    input: Type.Optional(Type.Unknown({ description: 'a template over the event: keys ending in ".$" take a path ("$.body.url"); absent, the event is the input' })),
    priority: Type.Optional(Type.Integer({ minimum: LIMITS.minPriority, maximum: LIMITS.maxPriority })),
    taskType: Type.Optional(Type.Union(TASK_TYPES.map((t) => Type.Literal(t)))),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTimeoutSeconds })),
    inputAssets: Type.Optional(Type.Array(Type.String({ pattern: ASSET_ID.source }), { maxItems: LIMITS.maxInputAssets, uniqueItems: true })),
  },
  strict,
);

const fields = {
  functionId: Type.Optional(Text(128)),
  workflowId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'instead of functionId: each event starts an execution of this workflow (id or name)' })),
  versionId: Type.Optional(Type.Union([Text(128), Type.Null()])),
  schedule: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'cron: five fields, or six with seconds first' })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'cron: an IANA time zone (default UTC)' })),
  catchUp: Type.Optional(Type.Boolean({ description: 'cron: run ticks missed while Ferry was down, once each (default false: skip them)' })),
  source: Type.Optional(
    Type.Object({ url: Text(2048), subject: Type.Optional(Text(1024)), stream: Type.Optional(Text(1024)), queue: Type.Optional(Text(1024)), topic: Type.Optional(Text(1024)) }, strict),
  ),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'webhook: whsec_ and base64 (default: a new one, shown once)' })),
  filter: Type.Optional(Type.Object({ name: Type.Optional(Text(256)), contentType: Type.Optional(Text(256)) }, strict)),
  task: Type.Optional(TaskTemplateBody),
  destinations: Type.Optional(Type.Union([DestinationsBody, Type.Null()])),
};

export const CreateTriggerBody = Type.Object({ name: Name, kind: Type.Union(TRIGGER_KINDS.map((k) => Type.Literal(k))), ...fields }, strict);
export const UpdateTriggerBody = Type.Object({ name: Type.Optional(Name), ...fields }, strict);
export const TriggerParams = Type.Object({ triggerId: Text(128) });
