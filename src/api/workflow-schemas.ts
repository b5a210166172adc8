import { Type } from '@sinclair/typebox';
import { LIMITS } from '../core/limits.js';
import { EXECUTION_STATUSES } from '../core/workflows/workflow.js';
import { Name, PageQuery } from './schemas.js';

/** Schemas of `/v1/workflows` and `/v1/executions`; a definition's own shape is checked by core/workflows/definition.ts, which names the state and field. */
const strict = { additionalProperties: false } as const;
const Id = Type.String({ minLength: 1, maxLength: 128 });

const Definition = Type.Object(
  { StartAt: Type.String({ minLength: 1, maxLength: 256 }), States: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: true, description: 'Amazon States Language: StartAt and named States (Task, Pass, Choice, Parallel, Map, Wait, Succeed, Fail)' },
);

export const CreateWorkflowBody = Type.Object({ name: Name, description: Type.Optional(Type.String({ maxLength: 1000 })), definition: Definition }, strict);
export const AddWorkflowVersionBody = Type.Object({ definition: Definition }, strict);
export const WorkflowParams = Type.Object({ workflowId: Id });
export const ExecutionParams = Type.Object({ executionId: Id });

export const StartExecutionBody = Type.Object(
  {
    input: Type.Optional(Type.Unknown()),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    versionId: Type.Optional(Id),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86_400, description: "the execution's own limit, over the definition's TimeoutSeconds" })),
  },
  strict,
);

export const ExecutionListQuery = Type.Object(
  {
    ...PageQuery,
    workflow: Type.Optional(Type.String({ maxLength: 128, description: 'a workflow id or name' })),
    status: Type.Optional(Type.String({ pattern: `^(${EXECUTION_STATUSES.join('|')})(,(${EXECUTION_STATUSES.join('|')}))*$`, description: 'comma-separated statuses' })),
  },
  strict,
);

export const ExecutionTasksQuery = Type.Object({ ...PageQuery, state: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'only the tasks of the states of this name' })) }, strict);

export const HistoryQuery = Type.Object(
  { after: Type.Optional(Type.Integer({ minimum: 0, description: 'entries after this seq' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxPageSize * 10 })) },
  strict,
);
