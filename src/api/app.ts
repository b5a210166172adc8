import swagger from '@fastify/swagger';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { AgentProtocol } from '../core/agent-protocol.js';
import type { AssetsService } from '../control/assets/assets-service.js';
import type { AuditLog } from '../control/audit-log.js';
import type { AuthService, Principal } from '../control/auth-service.js';
import type { DeploymentsService } from '../control/deployments-service.js';
import type { FleetService } from '../control/fleet-service.js';
import type { FunctionsService } from '../control/functions-service.js';
import type { StreamsService } from '../control/streams-service.js';
import type { TasksService } from '../control/tasks-service.js';
import type { TriggersService } from '../control/triggers/triggers-service.js';
import type { WorkflowsService } from '../control/workflows/workflows-service.js';
import { FerryError, invalid } from '../core/errors.js';
import { nestsDeeperThan } from '../core/json-depth.js';
import { RateLimiter } from './rate-limiter.js';
import { LIMITS } from '../core/limits.js';
import { NODE_SCOPE, type Scope, scopeAllows } from '../core/states.js';
import type { HttpSettings } from '../config.js';
import type { Store } from '../store/store.js';
import { errorHandler } from './error-handler.js';
import type { FerryMetrics } from './metrics.js';
import { agentRoutes } from './routes/agent.js';
import { assetRoutes } from './routes/assets.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { deploymentRoutes } from './routes/deployments.js';
import { fleetRoutes } from './routes/fleet.js';
import { functionRoutes } from './routes/functions.js';
import { healthRoutes } from './routes/health.js';
import { invokeRoutes } from './routes/invoke.js';
import { taskRoutes } from './routes/tasks.js';
import { tenancyRoutes } from './routes/tenancy.js';
import { triggerRoutes } from './routes/triggers.js';
import { workflowRoutes } from './routes/workflows.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { formatValidationErrors, validatorCompiler } from './validation.js';

export interface ApiServices {
  store: Store;
  auth: AuthService;
  functions: FunctionsService;
  deployments: DeploymentsService;
  tasks: TasksService;
  streams: StreamsService;
  fleet: FleetService;
  assets: AssetsService;
  triggers: TriggersService;
  workflows: WorkflowsService;
  audit: AuditLog;
  /** Null when the server keeps no metrics (FERRY_METRICS=off). */
  metrics: FerryMetrics | null;
  /** The control plane's side of the agent protocol, for remote agents. */
  gateway: AgentProtocol;
  version: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The least scope a route needs; routes without it are public. */
    scope?: Scope;
    /** A route that waits for something to happen (a claim's long poll): left out of request latency. */
    longPoll?: boolean;
    /** A change the audit log keeps, though the route needs less than `admin` (a cancel, a delete). */
    audit?: boolean;
    /** A route that submits work, counted against the tenant's submitsPerSecond: one, or a batch's tasks. */
    submits?: 'one' | 'batch';
  }
}

/** A caller's own request id, when it is a sane one: it ties their logs to ours. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Builds the HTTP API: one Fastify instance, its single error handler, auth, and every route.
 * Each request has an id (the caller's `X-Request-Id`, else a new one), sent back in the same
 * header and on every log line about it; each is logged at `debug` when it ends.
 */
export async function buildApi(services: ApiServices, log: FastifyBaseLogger, http: Pick<HttpSettings, 'headersTimeoutMs'>): Promise<FastifyInstance> {
  // Decided once: the level is fixed at start, and a request's line is then built only when it is written.
  const logRequests = log.level === 'debug' || log.level === 'trace';
  const app = Fastify({
    loggerInstance: log,
    // Requests are logged once, at debug, by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: LIMITS.maxBodyBytes,
    // A client that trickles its headers is cut off once they take longer than headersTimeoutMs
    // (checked that often), so slow clients cannot hold the server's connections. The body has no
    // time limit: an asset's upload may take long.
    serverFactory: (handler) =>
      createServer({ headersTimeout: http.headersTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs) }, handler),
    schemaErrorFormatter: formatValidationErrors,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  app.setValidatorCompiler(validatorCompiler(SHARED_SCHEMAS));
  // Response schemas document the API; plain JSON.stringify writes it, so no field is ever dropped.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Ferry API', version: services.version, description: 'Serverless asynchronous GPU work on your own machines.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.setErrorHandler(errorHandler());
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: new FerryError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON() });
  });
  app.decorateRequest('principal', null as unknown as Principal);
  // Every call of a tenant's keys counts against its requestsPerSecond once the key is known.
  const limiter = new RateLimiter();
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    const needed = req.routeOptions.config.scope;
    if (!needed) return;
    req.principal = await services.auth.authenticate(req.headers.authorization);
    if (!scopeAllows(req.principal.scope, needed)) throw new FerryError('FORBIDDEN', `this key's scope "${req.principal.scope}" cannot do this; it needs "${needed}"`);
    // Agents (node tokens) serve every tenant: their calls are the fleet's, not a tenant's.
    if (req.principal.scope !== NODE_SCOPE) limiter.admit(req.principal, 'requests', 1, reply);
  });
  const { metrics } = services;
  if (metrics || logRequests) {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      // A stream or a long poll lasts as long as it is followed or waits: it is no request latency.
      const longLived = req.routeOptions.config.longPoll === true || String(reply.raw.getHeader('content-type') ?? '').startsWith('text/event-stream');
      if (metrics && !longLived) metrics.http.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      if (logRequests) {
        req.log.debug({ method: req.method, url: req.url, route, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
      }
    });
  }
  // Submits count against the tenant's submitsPerSecond once their body is read (a batch, each task).
  app.addHook('onRoute', (route) => {
    const submits = (route.config as { submits?: 'one' | 'batch' } | undefined)?.submits;
    if (!submits) return;
    const admitSubmits = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const n = submits === 'batch' ? ((req.body as { tasks?: unknown[] } | undefined)?.tasks?.length ?? 0) : 1;
      limiter.admit(req.principal, 'submits', n, reply);
    };
    route.preHandler = [...[route.preHandler ?? []].flat(), admitSubmits];
  });
  // Every change goes to the audit log before it is answered: the routes that change something
  // and need `admin`, and those marked `audit`. The hook is put on those routes only.
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const config = route.config as { scope?: Scope; audit?: boolean } | undefined;
    if (methods.every((m) => m === 'GET' || m === 'HEAD') || !(config?.scope === 'admin' || config?.audit)) return;
    const action = `${methods.join(',')} ${route.url}`;
    const recordChange = async (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
      if (reply.statusCode >= 400 || !req.principal) return payload;
      await services.audit
        .record({ tenantId: req.principal.tenantId, keyId: req.principal.keyId, action, resource: JSON.stringify(req.params ?? {}), source: req.ip, status: reply.statusCode })
        .catch((err: unknown) => req.log.error({ err }, 'the audit log did not take a change'));
      return payload;
    };
    route.onSend = [...[route.onSend ?? []].flat(), recordChange];
  });
  // JSON as Fastify parses it (a __proto__ or constructor key refused), once it is known not to nest
  // so deep that a recursive walk of it (validation, serialising it back) would overflow the stack.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (nestsDeeperThan(body as string, LIMITS.maxJsonDepth)) return done(invalid(`body: JSON nested deeper than ${LIMITS.maxJsonDepth} levels`), undefined);
    parseJson(req, body as string, done);
  });
  // Any body type reaches invoke as text; JSON and text/plain are parsed, others refused there.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  await app.register(healthRoutes(services));
  await app.register(functionRoutes(services));
  await app.register(deploymentRoutes(services));
  await app.register(invokeRoutes(services));
  await app.register(taskRoutes(services));
  await app.register(fleetRoutes(services));
  await app.register(tenancyRoutes(services));
  await app.register(agentRoutes(services));
  await app.register(assetRoutes(services));
  await app.register(triggerRoutes(services));
  await app.register(workflowRoutes(services));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(dashboardRoutes());
  return app;
}
