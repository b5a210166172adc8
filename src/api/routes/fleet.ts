import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { CreateNodeTokenBody } from '../agent-schemas.js';
import type { ApiServices } from '../app.js';
import { FleetEventsQuery } from '../schemas.js';
import { lastSequence, streamEvents } from '../sse.js';
import { fleetEventJson, instanceJson, nodeJson } from '../views.js';

const tags = ['fleet'];
const InstancesQuery = Type.Object({ all: Type.Optional(Type.Boolean({ description: 'include stopped and failed instances' })) }, { additionalProperties: false });

export function fleetRoutes({ store, deployments, auth, functions, streams, fleet }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Static<typeof FleetEventsQuery> }>(
      '/v1/events',
      {
        config: { scope: 'read' },
        schema: {
          tags,
          summary: 'Deployment, instance and scaling events of your fleet, oldest first after a sequence number; with follow=true a stream (Server-Sent Events named by kind, id = seq) of what comes next, or after `after`, resumable with Last-Event-ID',
          querystring: FleetEventsQuery,
        },
      },
      async (req, reply) => {
        const { tenantId } = req.principal;
        const q = req.query;
        const functionId = q.functionId === undefined ? undefined : (await functions.get(tenantId, q.functionId)).id;
        if (!q.follow) {
          const filter = { afterSeq: q.after ?? 0, functionId, versionId: q.versionId };
          const items = await store.deployments.listFleetEvents(tenantId, filter, q.limit ?? 100);
          return { items: items.map(fleetEventJson), next: items.length > 0 ? items[items.length - 1]!.seq : filter.afterSeq };
        }
        // A follower starts where it stopped (Last-Event-ID), where it asks (after), or with what comes next.
        const afterSeq = lastSequence(req, 'an event') ?? q.after ?? (await store.deployments.lastFleetEventSeq());
        const filter = { afterSeq, functionId, versionId: q.versionId };
        return streamEvents(req, reply, async function* (signal) {
          for await (const e of streams.fleetEvents(tenantId, filter, signal)) yield { event: e.kind, id: e.seq, data: fleetEventJson(e) };
        });
      },
    );

    app.post<{ Body: Static<typeof CreateNodeTokenBody> }>(
      '/v1/nodes/tokens',
      {
        config: { scope: 'admin' },
        schema: { tags, summary: 'Create a node token for `ferry agent` (system tenant admins only); shown once', body: CreateNodeTokenBody },
      },
      async (req, reply) => {
        const { key, secret } = await auth.createNodeToken(req.principal, req.body?.name ?? 'node');
        return reply.status(201).send({ id: key.id, name: key.name, token: secret });
      },
    );

    app.get('/v1/nodes', { config: { scope: 'read' }, schema: { tags, summary: 'Nodes with their GPUs and what is allocated' } }, async () => ({
      items: (await fleet.nodes()).map(({ node, allocated }) => nodeJson(node, allocated)),
    }));

    app.get('/v1/gpus', { config: { scope: 'read' }, schema: { tags, summary: 'GPU types with total, allocated and free counts' } }, async () => ({
      items: await fleet.gpuTypes(),
    }));

    app.get<{ Querystring: Static<typeof InstancesQuery> }>(
      '/v1/instances',
      { config: { scope: 'read' }, schema: { tags, summary: "The tenant's instances (live ones unless all=true)", querystring: InstancesQuery } },
      async (req) => ({ items: (await deployments.instances(req.principal.tenantId, { live: !req.query.all })).map(instanceJson) }),
    );
  };
}
