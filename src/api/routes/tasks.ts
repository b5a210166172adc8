import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { FerryError, invalid } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { type TaskStatus, isTerminalTask } from '../../core/states.js';
import { taskStreamId } from '../../control/streams-service.js';
import type { ApiServices } from '../app.js';
import { BatchItemResponse, LogsQuery, SubmitBatchBody, SubmitTaskBody, TaskListQuery, TaskParams, TaskResponse, errorResponses } from '../schemas.js';
import { lastEventId, lastSequence, streamEvents } from '../sse.js';
import { sendOutput } from '../task-output.js';
import { deliveryJson, logLineJson, taskJson } from '../views.js';

const tags = ['tasks'];

/** The `id` of a log stream's last event: a follower that saw it has everything. */
const LOGS_END_ID = 'end';

export function taskRoutes({ tasks, streams, assets }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof SubmitTaskBody> }>(
      '/v1/tasks',
      {
        config: { scope: 'invoke', submits: 'one' },
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

    app.post<{ Body: Static<typeof SubmitBatchBody> }>(
      '/v1/tasks/batch',
      {
        config: { scope: 'invoke', submits: 'batch' },
        schema: {
          tags,
          summary: `Submit up to ${LIMITS.maxBatchTasks} tasks in one transaction: 202 with each one's id, status and position, or its error, in order`,
          body: SubmitBatchBody,
          response: { 202: Type.Object({ items: Type.Array(BatchItemResponse) }), ...errorResponses },
        },
      },
      async (req, reply) => {
        const items = await tasks.submitBatch(req.principal.tenantId, req.body.tasks);
        return reply.status(202).send({
          items: items.map((item) => ('error' in item ? { error: item.error.toJSON() } : { id: item.task.id, status: item.task.status, position: item.task.position })),
        });
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
      { config: { scope: 'read' }, schema: { tags, summary: 'The output of a succeeded task, as the function gave it (a 302 to a download when it is an asset)', params: TaskParams } },
      async (req, reply) => {
        const task = await tasks.get(req.principal.tenantId, req.params.taskId);
        if (task.status !== 'SUCCEEDED') throw new FerryError('TASK_OUTPUT_UNAVAILABLE', `task ${task.id} is ${task.status}; only a SUCCEEDED task has an output`);
        return sendOutput(req, reply, assets, task);
      },
    );

    app.post<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/cancel',
      { config: { scope: 'invoke', audit: true }, schema: { tags, summary: 'Cancel a queued or running task', params: TaskParams } },
      async (req, reply) => reply.status(202).send(taskJson(await tasks.cancel(req.principal.tenantId, req.params.taskId), false)),
    );

    app.get<{ Params: Static<typeof TaskParams>; Querystring: Static<typeof LogsQuery> }>(
      '/v1/tasks/:taskId/logs',
      {
        config: { scope: 'read' },
        schema: {
          tags,
          summary: 'Log lines so far, after a sequence number; with follow=true, a stream (Server-Sent Events `log`, id = seq, then `end`) until the task ends, resumable with Last-Event-ID',
          params: TaskParams,
          querystring: LogsQuery,
        },
      },
      async (req, reply) => {
        const { tenantId } = req.principal;
        const { taskId } = req.params;
        if (!req.query.follow) {
          const after = req.query.after ?? 0;
          const { task, lines } = await tasks.logs(tenantId, taskId, after, req.query.limit ?? 1000);
          return { taskId: task.id, status: task.status, lines: lines.map(logLineJson), next: lines.length > 0 ? lines[lines.length - 1]!.seq : after };
        }
        const task = await tasks.get(tenantId, taskId);
        // A follower that saw the end has everything: 204 tells an EventSource not to reconnect.
        if (lastEventId(req) === LOGS_END_ID) return reply.status(204).send();
        const after = lastSequence(req, 'a log') ?? req.query.after ?? 0;
        return streamEvents(req, reply, async function* (signal) {
          for await (const line of streams.taskLogs(tenantId, task.id, after, signal)) yield { event: 'log', id: line.seq, data: logLineJson(line) };
          const ended = await tasks.get(tenantId, task.id);
          yield { event: 'end', id: LOGS_END_ID, data: { taskId: ended.id, status: ended.status } };
        });
      },
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/events',
      {
        config: { scope: 'read' },
        schema: {
          tags,
          summary: 'A stream (Server-Sent Events) of the task as it changes: `status`, `progress`, `position`, then `end` with its output; resumable with Last-Event-ID',
          params: TaskParams,
        },
      },
      async (req, reply) => {
        const { tenantId } = req.principal;
        const resumeFrom = lastEventId(req);
        const task = await tasks.get(tenantId, req.params.taskId);
        if (resumeFrom !== null && isTerminalTask(task.status) && resumeFrom === taskStreamId(task)) return reply.status(204).send();
        return streamEvents(req, reply, async function* (signal) {
          for await (const e of streams.taskEvents(tenantId, task.id, resumeFrom, signal)) yield { event: e.type, id: e.id, data: taskJson(e.task, e.type === 'end') };
        });
      },
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/position',
      { config: { scope: 'read' }, schema: { tags, summary: 'Position in its queue (0 = next to run)', params: TaskParams } },
      async (req) => tasks.position(req.principal.tenantId, req.params.taskId),
    );

    app.get<{ Params: Static<typeof TaskParams> }>(
      '/v1/tasks/:taskId/deliveries',
      { config: { scope: 'read' }, schema: { tags, summary: 'Where the task’s outcome was sent: each delivery with every attempt (time, status code or error) and its next retry', params: TaskParams } },
      async (req) => ({ items: (await tasks.deliveries(req.principal.tenantId, req.params.taskId)).map((d) => deliveryJson(d.delivery, d.attempts)) }),
    );
  };
}
