import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiServices } from '../app.js';
import {
  ClaimBody,
  CompleteBody,
  HeartbeatBody,
  InputAssetsQuery,
  OutputAssetBody,
  InstanceEventBody,
  InstanceParams,
  InstanceStateBody,
  LogsBody,
  NodeParams,
  ProgressBody,
  RegisterNodeBody,
  TaskParams,
} from '../agent-schemas.js';
import { openEventStream } from '../sse.js';

const tags = ['agent'];
const config = { scope: 'node' as const };

/**
 * The agent protocol over HTTP, for `ferry agent` on other machines: the same calls the
 * in-process agent makes on the gateway. Agents only ever call in (long-poll claims, a push
 * stream they open), so they work behind NAT. Only node tokens reach these routes.
 */
export function agentRoutes({ gateway }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof RegisterNodeBody> }>(
      '/v1/agent/nodes',
      { config, schema: { tags, summary: 'Register a node and its GPUs; what it ran before is taken back', body: RegisterNodeBody } },
      async (req, reply) => {
        await gateway.registerNode(req.body);
        return reply.status(204).send();
      },
    );

    app.get<{ Params: Static<typeof NodeParams> }>(
      '/v1/agent/nodes/:nodeId/assignments',
      { config, schema: { tags, summary: 'Live instances placed on the node, with their versions', params: NodeParams } },
      async (req) => ({ items: await gateway.assignments(req.params.nodeId) }),
    );

    app.post<{ Params: Static<typeof NodeParams>; Body: Static<typeof HeartbeatBody> }>(
      '/v1/agent/nodes/:nodeId/heartbeat',
      { config, schema: { tags, summary: "Renew the node's leases; answers which tasks to cancel and which are lost", params: NodeParams, body: HeartbeatBody } },
      async (req) => gateway.heartbeat(req.params.nodeId, req.body.held),
    );

    app.get<{ Params: Static<typeof NodeParams> }>(
      '/v1/agent/nodes/:nodeId/events',
      { config, schema: { tags, summary: 'Push stream (Server-Sent Events): assignments changed, cancel a task', params: NodeParams } },
      async (req, reply) => {
        const stream = openEventStream(req, reply);
        const unsubscribe = gateway.subscribe(req.params.nodeId, {
          assignmentsChanged: () => stream.send({ event: 'assignments', data: {} }),
          cancel: (ref) => stream.send({ event: 'cancel', data: ref }),
        });
        stream.signal.addEventListener('abort', unsubscribe, { once: true });
        stream.send({ event: 'ready', data: {} });
      },
    );

    app.post<{ Params: Static<typeof InstanceParams>; Body: Static<typeof InstanceStateBody> }>(
      '/v1/agent/instances/:instanceId/state',
      { config, schema: { tags, summary: 'Report an instance ready, stopped or failed', params: InstanceParams, body: InstanceStateBody } },
      async (req, reply) => {
        await gateway.instanceState(req.params.instanceId, req.body.to, req.body.reason);
        return reply.status(204).send();
      },
    );

    app.post<{ Params: Static<typeof InstanceParams>; Body: Static<typeof InstanceEventBody> }>(
      '/v1/agent/instances/:instanceId/events',
      { config, schema: { tags, summary: "Add an entry to an instance's events", params: InstanceParams, body: InstanceEventBody } },
      async (req, reply) => {
        await gateway.instanceEvent(req.params.instanceId, req.body.message);
        return reply.status(204).send();
      },
    );

    app.post<{ Body: Static<typeof ClaimBody> }>(
      '/v1/agent/claim',
      { config: { ...config, longPoll: true }, schema: { tags, summary: "Lease tasks for an instance's free slots, waiting up to waitMs (long-poll)", body: ClaimBody } },
      async (req, reply) => {
        // A claim whose agent hung up stops waiting, so it takes nothing nobody will run.
        const gone = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) gone.abort();
        });
        return { items: await gateway.claim(req.body, gone.signal) };
      },
    );

    app.post<{ Params: Static<typeof TaskParams>; Body: Static<typeof ProgressBody> }>(
      '/v1/agent/tasks/:taskId/progress',
      { config, schema: { tags, summary: "Record the current attempt's progress", params: TaskParams, body: ProgressBody } },
      async (req, reply) => {
        const { attempt, ...progress } = req.body;
        await gateway.progress({ id: req.params.taskId, attempt }, progress);
        return reply.status(204).send();
      },
    );

    app.get<{ Params: Static<typeof TaskParams>; Querystring: Static<typeof InputAssetsQuery> }>(
      '/v1/agent/tasks/:taskId/input-assets',
      { config, schema: { tags, summary: "Where to fetch a running attempt's input assets (pre-signed URLs)", params: TaskParams, querystring: InputAssetsQuery } },
      async (req) => ({ items: await gateway.inputAssets({ id: req.params.taskId, attempt: req.query.attempt, tenantId: req.query.tenantId }) }),
    );

    app.post<{ Params: Static<typeof TaskParams>; Body: Static<typeof OutputAssetBody> }>(
      '/v1/agent/tasks/:taskId/output-assets',
      { config, schema: { tags, summary: 'Create an output asset of a running attempt: its id and a pre-signed URL to PUT the bytes to', params: TaskParams, body: OutputAssetBody } },
      async (req, reply) => {
        const { attempt, tenantId, ...file } = req.body;
        return reply.status(201).send(await gateway.createOutputAsset({ id: req.params.taskId, attempt, tenantId }, file));
      },
    );

    app.post<{ Params: Static<typeof TaskParams>; Body: Static<typeof LogsBody> }>(
      '/v1/agent/tasks/:taskId/logs',
      { config, schema: { tags, summary: "Append log lines of an attempt", params: TaskParams, body: LogsBody } },
      async (req, reply) => {
        await gateway.logs({ id: req.params.taskId, attempt: req.body.attempt }, req.body.lines);
        return reply.status(204).send();
      },
    );

    app.post<{ Params: Static<typeof TaskParams>; Body: Static<typeof CompleteBody> }>(
      '/v1/agent/tasks/:taskId/complete',
      { config, schema: { tags, summary: "Record an attempt's end (a stale attempt's is ignored) and lease the next tasks", params: TaskParams, body: CompleteBody } },
      async (req) => ({ items: await gateway.complete({ id: req.params.taskId, attempt: req.body.attempt }, req.body.outcome, req.body.next) }),
    );
  };
}
