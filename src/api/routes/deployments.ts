import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { ApiServices } from '../app.js';
import { DeploymentBody, FunctionParams, TimelineQuery, UndeployQuery, VersionParams } from '../schemas.js';
import { deploymentJson, loadSampleJson } from '../views.js';

const tags = ['deployments'];

export function deploymentRoutes({ deployments }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    const path = '/v1/functions/:functionId/versions/:versionId/deployment';
    app.put<{ Params: Static<typeof VersionParams>; Body: Static<typeof DeploymentBody> }>(
      path,
      { config: { scope: 'admin' }, schema: { tags, summary: 'Deploy a version or update its scaling live', params: VersionParams, body: DeploymentBody } },
      async (req, reply) => {
        const { deployment } = await deployments.put(req.principal.tenantId, req.params.functionId, req.params.versionId, req.body ?? {});
        return reply.status(202).send(deploymentJson(deployment));
      },
    );

    app.get<{ Params: Static<typeof VersionParams> }>(
      path,
      { config: { scope: 'read' }, schema: { tags, summary: 'A deployment with its instances and recent events', params: VersionParams } },
      async (req) => deploymentJson(await deployments.get(req.principal.tenantId, req.params.functionId, req.params.versionId)),
    );

    app.get<{ Params: Static<typeof VersionParams>; Querystring: Static<typeof TimelineQuery> }>(
      `${path}/timeline`,
      {
        config: { scope: 'read' },
        schema: { tags, summary: 'The deployment’s load over time as its autoscaler sampled it: queued, running, serving and desired instances', params: VersionParams, querystring: TimelineQuery },
      },
      async (req) => {
        const since = req.query.since ? Date.parse(req.query.since) : Date.now() - 3600_000;
        const t = await deployments.timeline(req.principal.tenantId, req.params.functionId, req.params.versionId, since, req.query.limit ?? 2000);
        return { ...t, samples: t.samples.map(loadSampleJson) };
      },
    );

    app.delete<{ Params: Static<typeof VersionParams>; Querystring: Static<typeof UndeployQuery> }>(
      path,
      { config: { scope: 'admin' }, schema: { tags, summary: 'Undeploy; graceful=true drains running tasks first', params: VersionParams, querystring: UndeployQuery } },
      async (req, reply) => {
        const view = await deployments.undeploy(req.principal.tenantId, req.params.functionId, req.params.versionId, {
          graceful: req.query.graceful ?? false,
          running: req.query.running ?? 'requeue',
        });
        return reply.status(202).send(deploymentJson(view));
      },
    );

    app.get<{ Params: Static<typeof FunctionParams> }>(
      '/v1/functions/:functionId/queue',
      { config: { scope: 'read' }, schema: { tags: ['queues'], summary: 'Queue length and running tasks of a function', params: FunctionParams } },
      async (req) => deployments.queue(req.principal.tenantId, req.params.functionId),
    );

    app.get<{ Params: Static<typeof VersionParams> }>(
      '/v1/functions/:functionId/versions/:versionId/queue',
      { config: { scope: 'read' }, schema: { tags: ['queues'], summary: 'Queue length and running tasks of a version', params: VersionParams } },
      async (req) => deployments.queue(req.principal.tenantId, req.params.functionId, req.params.versionId),
    );
  };
}
