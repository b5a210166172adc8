import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../../core/limits.js';
import type { StateMachine } from '../../core/workflows/definition.js';
import type { ExecutionStatus } from '../../core/workflows/interpreter.js';
import type { ApiServices } from '../app.js';
import { ListQuery } from '../schemas.js';
import { executionJson, executionTaskJson, historyEntryJson, workflowJson, workflowVersionJson } from '../views.js';
import { AddWorkflowVersionBody, CreateWorkflowBody, ExecutionListQuery, ExecutionParams, ExecutionTasksQuery, HistoryQuery, StartExecutionBody, WorkflowParams } from '../workflow-schemas.js';

const tags = ['workflows'];

export function workflowRoutes({ workflows }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateWorkflowBody> }>(
      '/v1/workflows',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Create a workflow from an Amazon States Language definition (201; checked as a whole, errors name the state and field)', body: CreateWorkflowBody } },
      async (req, reply) => {
        const w = await workflows.create(req.principal.tenantId, { ...req.body, definition: req.body.definition as StateMachine });
        return reply.status(201).send(workflowJson(w, w.version));
      },
    );

    app.get<{ Querystring: Static<typeof ListQuery> }>(
      '/v1/workflows',
      { config: { scope: 'read' }, schema: { tags, summary: 'List workflows, oldest first', querystring: ListQuery } },
      async (req) => {
        const page = await workflows.list(req.principal.tenantId, { limit: req.query.limit ?? LIMITS.defaultPageSize, cursor: req.query.cursor });
        return { items: page.items.map((w) => workflowJson(w)), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof WorkflowParams> }>(
      '/v1/workflows/:workflowId',
      { config: { scope: 'read' }, schema: { tags, summary: 'A workflow (by id or name) with its newest version', params: WorkflowParams } },
      async (req) => {
        const w = await workflows.get(req.principal.tenantId, req.params.workflowId);
        return workflowJson(w, w.version);
      },
    );

    app.post<{ Params: Static<typeof WorkflowParams>; Body: Static<typeof AddWorkflowVersionBody> }>(
      '/v1/workflows/:workflowId/versions',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Add a version: new executions run it, running ones keep theirs (201)', params: WorkflowParams, body: AddWorkflowVersionBody } },
      async (req, reply) => {
        const w = await workflows.addVersion(req.principal.tenantId, req.params.workflowId, req.body.definition as StateMachine);
        return reply.status(201).send(workflowJson(w, w.version));
      },
    );

    app.get<{ Params: Static<typeof WorkflowParams> }>(
      '/v1/workflows/:workflowId/versions',
      { config: { scope: 'read' }, schema: { tags, summary: 'A workflow’s versions, newest first', params: WorkflowParams } },
      async (req) => ({ items: (await workflows.versions(req.principal.tenantId, req.params.workflowId)).map(workflowVersionJson) }),
    );

    app.delete<{ Params: Static<typeof WorkflowParams> }>(
      '/v1/workflows/:workflowId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Delete a workflow with its versions and ended executions (409 while one runs; their tasks stay)', params: WorkflowParams } },
      async (req, reply) => {
        await workflows.delete(req.principal.tenantId, req.params.workflowId);
        return reply.status(204).send();
      },
    );

    app.post<{ Params: Static<typeof WorkflowParams>; Body: Static<typeof StartExecutionBody> }>(
      '/v1/workflows/:workflowId/executions',
      { config: { scope: 'invoke', submits: 'one' }, schema: { tags, summary: 'Start an execution: 202 once it is stored with its first tasks (200 with the earlier one for a repeated idempotencyKey)', params: WorkflowParams, body: StartExecutionBody } },
      async (req, reply) => {
        const { execution, created } = await workflows.startExecution(req.principal.tenantId, req.params.workflowId, req.body);
        return reply.status(created ? 202 : 200).header('location', `/v1/executions/${execution.id}`).send(executionJson(execution));
      },
    );

    app.get<{ Querystring: Static<typeof ExecutionListQuery> }>(
      '/v1/executions',
      { config: { scope: 'read' }, schema: { tags, summary: 'List executions, newest first, by workflow and status', querystring: ExecutionListQuery } },
      async (req) => {
        const q = req.query;
        const page = await workflows.executions(
          req.principal.tenantId,
          { ...(q.workflow ? { workflow: q.workflow } : {}), ...(q.status ? { statuses: q.status.split(',') as ExecutionStatus[] } : {}) },
          { limit: q.limit ?? LIMITS.defaultPageSize, cursor: q.cursor },
        );
        return { items: page.items.map(executionJson), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof ExecutionParams> }>(
      '/v1/executions/:executionId',
      { config: { scope: 'read' }, schema: { tags, summary: 'An execution: status, the steps it is in, output or error', params: ExecutionParams } },
      async (req) => executionJson(await workflows.execution(req.principal.tenantId, req.params.executionId)),
    );

    app.get<{ Params: Static<typeof ExecutionParams>; Querystring: Static<typeof HistoryQuery> }>(
      '/v1/executions/:executionId/history',
      { config: { scope: 'read' }, schema: { tags, summary: 'Every step entered and left, the tasks started and their attempts, in order', params: ExecutionParams, querystring: HistoryQuery } },
      async (req) => {
        const limit = req.query.limit ?? LIMITS.maxPageSize;
        const items = await workflows.history(req.principal.tenantId, req.params.executionId, req.query.after ?? 0, limit);
        return { items: items.map(historyEntryJson), nextAfter: items.length === limit ? items[items.length - 1]!.seq : null };
      },
    );

    app.get<{ Params: Static<typeof ExecutionParams>; Querystring: Static<typeof ExecutionTasksQuery> }>(
      '/v1/executions/:executionId/tasks',
      { config: { scope: 'read' }, schema: { tags, summary: 'The tasks an execution started, in order, each under its step, with its status and attempts', params: ExecutionParams, querystring: ExecutionTasksQuery } },
      async (req) => {
        const { state, limit, cursor } = req.query;
        const page = await workflows.tasks(req.principal.tenantId, req.params.executionId, state ? { state } : {}, { limit: limit ?? LIMITS.maxPageSize, cursor });
        return { items: page.items.map(({ step, task }) => executionTaskJson(step, task)), nextCursor: page.nextCursor };
      },
    );

    app.post<{ Params: Static<typeof ExecutionParams> }>(
      '/v1/executions/:executionId/cancel',
      { config: { scope: 'invoke', audit: true }, schema: { tags, summary: 'Cancel a running execution and the tasks it waits for (409 once it ended)', params: ExecutionParams } },
      async (req) => executionJson(await workflows.cancel(req.principal.tenantId, req.params.executionId)),
    );
  };
}
