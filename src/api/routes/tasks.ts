import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { FerryError, invalid } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import type { TaskStatus } from '../../core/states.js';
import type { ApiServices } from '../app.js';
import { LogsQuery, SubmitTaskBody, TaskListQuery, TaskParams, TaskResponse, errorResponses } from '../schemas.js';
import { taskJson } from '../views.js';

const tags = ['tasks'];

export function taskRoutes({ tasks }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof SubmitTaskBody> }>(
      '/v1/tasks',
      {
        config: { scope: 'invoke' },
        schema: { tags, summary: 'Submit a task (asynchronous): 202 once it is stored', body: SubmitTaskBody, response: { 202: Type.Ref(TaskResponse), ...errorResponses } },
      },
      async (req, reply) => {
        const header = req.headers['idempotency-key'];
        const key = req.body.idempotencyKey ?? (typeof header === 'string' ? header : undefined);
        if (key !== undefined && (key.length === 0 || key.length > 256)) throw invalid('Idempotency-Key: must be 1 to 256 characters');
        const { task } = await tasks.submit(req.principal.tenantId, { ...req.body, idempotencyKey: key });
        return reply.status(202).header('location', `/v1/tasks/${task.id}`).send(taskJson(task, false));
      },
    );

    app.get<{ Querystring: Static<typeof TaskListQuery> }>(
      '/v1/tasks',
      { config: { scope: 'read' }, schema: { tags, summary: 'Task history, newest first, with filters and a cursor', querystring: TaskListQuery } },
      async (req) => {
        const q = req.query;
        const page = await tasks.list(
          req.principal.tenantId,
          {
            functionId: q.functionId,
            versionId: q.versionId,
            statuses: q.status ? (q.status.split(',') as TaskStatus[]) : undefined,
            createdAfter: q.createdAfter ? Date.parse(q.createdAfter) : undefined,
            createdBefore: q.createdBefore ? Date.parse(q.createdBefore) : undefined,
          },
          { limit: q.limit ?? LIMITS.defaultPageSize, cursor: q.cursor },
        );
        return { items: page.items.map((t) => taskJson(t, false)), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId',
      { config: { scope: 'read' }, schema: { tags, summary: 'Status, progress, position, attempts, timestamps, output', params: TaskParams, response: { 200: Type.Ref(TaskResponse) } } },
      async (req) => taskJson(await tasks.get(req.principal.tenantId, req.params.taskId), true),
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/output',
      { config: { scope: 'read' }, schema: { tags, summary: 'The output of a succeeded task', params: TaskParams } },
      async (req, reply) => {
        const task = await tasks.get(req.principal.tenantId, req.params.taskId);
        if (task.status !== 'SUCCEEDED') throw new FerryError('TASK_OUTPUT_UNAVAILABLE', `task ${task.id} is ${task.status}; only a SUCCEEDED task has an output`);
        return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(task.output ?? null));
      },
    );

    app.post<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/cancel',
      { config: { scope: 'invoke' }, schema: { tags, summary: 'Cancel a queued or running task', params: TaskParams } },
      async (req, reply) => reply.status(202).send(taskJson(await tasks.cancel(req.principal.tenantId, req.params.taskId), false)),
    );

    app.get<{ Params: Static<typeof TaskParams>; Querystring: Static<typeof LogsQuery> }>(
      '/v1/tasks/:taskId/logs',
      { config: { scope: 'read' }, schema: { tags, summary: 'Log lines so far, after a sequence number', params: TaskParams, querystring: LogsQuery } },
      async (req) => {
        const after = req.query.after ?? 0;
        const { task, lines } = await tasks.logs(req.principal.tenantId, req.params.taskId, after, req.query.limit ?? 1000);
        return {
          taskId: task.id,
          status: task.status,
          lines: lines.map((l) => ({ ...l, at: new Date(l.at).toISOString() })),
          next: lines.length > 0 ? lines[lines.length - 1]!.seq : after,
        };
      },
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/position',
      { config: { scope: 'read' }, schema: { tags, summary: 'Position in its queue (0 = next to run)', params: TaskParams } },
      async (req) => tasks.position(req.principal.tenantId, req.params.taskId),
    );
  };
}
