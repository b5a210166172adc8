import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { ApiServices } from '../app.js';
import { CreateFunctionBody, FunctionParams, ListQuery, VersionParams, VersionSpecBody, errorResponses } from '../schemas.js';
import { functionJson, versionJson } from '../views.js';
import { LIMITS } from '../../core/limits.js';

const tags = ['functions'];

export function functionRoutes({ functions }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateFunctionBody> }>(
      '/v1/functions',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Create a function with its first version', body: CreateFunctionBody, response: { 201: Type.Unknown(), ...errorResponses } } },
      async (req, reply) => {
        const { function: fn, version } = await functions.create(req.principal.tenantId, req.body);
        return reply.status(201).send({ ...functionJson(fn), version: versionJson(version) });
      },
    );

    app.get<{ Querystring: Static<typeof ListQuery> }>(
      '/v1/functions',
      { config: { scope: 'read' }, schema: { tags, summary: 'List functions', querystring: ListQuery } },
      async (req) => {
        const page = await functions.list(req.principal.tenantId, { limit: req.query.limit ?? LIMITS.defaultPageSize, cursor: req.query.cursor });
        return { items: page.items.map(functionJson), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof FunctionParams> }>(
      '/v1/functions/:functionId',
      { config: { scope: 'read' }, schema: { tags, summary: 'Get a function (by id or name)', params: FunctionParams } },
      async (req) => functionJson(await functions.get(req.principal.tenantId, req.params.functionId)),
    );

    app.delete<{ Params: Static<typeof FunctionParams> }>(
      '/v1/functions/:functionId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Delete a function and its versions (none may be deployed)', params: FunctionParams } },
      async (req, reply) => {
        await functions.delete(req.principal.tenantId, req.params.functionId);
        return reply.status(204).send();
      },
    );

    app.post<{ Params: Static<typeof FunctionParams>; Body: Static<typeof VersionSpecBody> }>(
      '/v1/functions/:functionId/versions',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Add a version', params: FunctionParams, body: VersionSpecBody } },
      async (req, reply) => reply.status(201).send(versionJson(await functions.addVersion(req.principal.tenantId, req.params.functionId, req.body))),
    );

    app.get<{ Params: Static<typeof FunctionParams>; Querystring: Static<typeof ListQuery> }>(
      '/v1/functions/:functionId/versions',
      { config: { scope: 'read' }, schema: { tags, summary: 'List versions', params: FunctionParams, querystring: ListQuery } },
      async (req) => {
        const page = await functions.listVersions(req.principal.tenantId, req.params.functionId, { limit: req.query.limit ?? LIMITS.defaultPageSize, cursor: req.query.cursor });
        return { items: page.items.map(versionJson), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof VersionParams> }>(
      '/v1/functions/:functionId/versions/:versionId',
      { config: { scope: 'read' }, schema: { tags, summary: 'Get a version', params: VersionParams } },
      async (req) => versionJson((await functions.getVersion(req.principal.tenantId, req.params.functionId, req.params.versionId)).version),
    );

    app.delete<{ Params: Static<typeof VersionParams> }>(
      '/v1/functions/:functionId/versions/:versionId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Delete a version (it may not be deployed)', params: VersionParams } },
      async (req, reply) => {
        await functions.deleteVersion(req.principal.tenantId, req.params.functionId, req.params.versionId);
        return reply.status(204).send();
      },
    );
  };
}
