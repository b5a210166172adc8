import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TriggersService } from '../../control/triggers/triggers-service.js';
import type { TriggerRecord } from '../../core/triggers.js';
import { LIMITS } from '../../core/limits.js';
import type { ApiServices } from '../app.js';
import { ListQuery } from '../schemas.js';
import { CreateTriggerBody, TriggerParams, UpdateTriggerBody } from '../trigger-schemas.js';
import { triggerFireJson, triggerJson } from '../views.js';

const tags = ['triggers'];

const view = (triggers: TriggersService, t: TriggerRecord, withSecret = false) => triggerJson(t, triggers.nextFires(t), withSecret);

export function triggerRoutes({ triggers }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateTriggerBody> }>(
      '/v1/triggers',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Create a trigger: cron, nats, redis, amqp, mqtt, webhook or asset (201; a webhook trigger shows its secret here only)', body: CreateTriggerBody } },
      async (req, reply) => reply.status(201).send(view(triggers, await triggers.create(req.principal.tenantId, req.body), true)),
    );

    app.get<{ Querystring: Static<typeof ListQuery> }>(
      '/v1/triggers',
      { config: { scope: 'read' }, schema: { tags, summary: 'List triggers, oldest first', querystring: ListQuery } },
      async (req) => {
        const page = await triggers.list(req.principal.tenantId, { limit: req.query.limit ?? LIMITS.defaultPageSize, cursor: req.query.cursor });
        return { items: page.items.map((t) => view(triggers, t)), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof TriggerParams> }>(
      '/v1/triggers/:triggerId',
      { config: { scope: 'read' }, schema: { tags, summary: 'A trigger with its state, last fire, last error and (cron) next fire times', params: TriggerParams } },
      async (req) => view(triggers, await triggers.get(req.principal.tenantId, req.params.triggerId)),
    );

    app.patch<{ Params: Static<typeof TriggerParams>; Body: Static<typeof UpdateTriggerBody> }>(
      '/v1/triggers/:triggerId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Change some fields of a trigger (not its kind)', params: TriggerParams, body: UpdateTriggerBody } },
      async (req) => view(triggers, await triggers.update(req.principal.tenantId, req.params.triggerId, req.body)),
    );

    app.delete<{ Params: Static<typeof TriggerParams> }>(
      '/v1/triggers/:triggerId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Delete a trigger (the tasks it made stay)', params: TriggerParams } },
      async (req, reply) => {
        await triggers.delete(req.principal.tenantId, req.params.triggerId);
        return reply.status(204).send();
      },
    );

    for (const [action, paused] of [
      ['pause', true],
      ['resume', false],
    ] as const) {
      app.post<{ Params: Static<typeof TriggerParams> }>(
        `/v1/triggers/:triggerId/${action}`,
        { config: { scope: 'admin' }, schema: { tags, summary: paused ? 'Pause a trigger: nothing fires until it is resumed' : 'Resume a paused trigger', params: TriggerParams } },
        async (req) => view(triggers, await triggers.setPaused(req.principal.tenantId, req.params.triggerId, paused)),
      );
    }

    app.get<{ Params: Static<typeof TriggerParams>; Querystring: Static<typeof ListQuery> }>(
      '/v1/triggers/:triggerId/tasks',
      { config: { scope: 'read' }, schema: { tags, summary: 'The tasks a trigger made, newest first, each with its event', params: TriggerParams, querystring: ListQuery } },
      async (req) => {
        const page = await triggers.fires(req.principal.tenantId, req.params.triggerId, { limit: req.query.limit ?? LIMITS.defaultPageSize, cursor: req.query.cursor });
        return { items: page.items.map(triggerFireJson), nextCursor: page.nextCursor };
      },
    );

    // Called from outside, authorized by the Standard Webhooks signature rather than a key.
    await app.register(async (hooks) => {
      // The signature covers the body's exact bytes: it is kept as received, whatever its type.
      hooks.removeAllContentTypeParsers();
      hooks.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      hooks.post<{ Params: Static<typeof TriggerParams> }>(
        '/v1/hooks/:triggerId',
        { schema: { tags, summary: 'Start a webhook trigger’s task (or execution): signed with its secret (Standard Webhooks); 202 with its id', params: TriggerParams, security: [] } },
        async (req, reply) => {
          const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const { task, execution } = await triggers.receiveWebhook(req.params.triggerId, req.headers, body);
          return reply.status(202).send(task ? { taskId: task.id, status: task.status } : { executionId: execution.id, status: execution.status });
        },
      );
    });
  };
}
