import type { FastifyInstance } from 'fastify';
import { FerryError } from '../../core/errors.js';
import type { ApiServices } from '../app.js';

export function healthRoutes({ store, version, metrics }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness', security: [] } }, async () => ({ status: 'ok', version }));
    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: the store answers', security: [] } }, async () => {
      try {
        await store.ping();
      } catch (err) {
        throw new FerryError('STORE_UNAVAILABLE', 'the store does not answer', { cause: err });
      }
      return { status: 'ready', store: store.kind };
    });
    app.get(
      '/metrics',
      { config: { scope: 'read' }, schema: { tags: ['health'], summary: 'Prometheus metrics (text format) of the whole fleet; needs a key of the system tenant' } },
      async (req, reply) => {
        if (!metrics) throw new FerryError('NOT_FOUND', 'this server keeps no metrics: it runs with FERRY_METRICS=off');
        if (!req.principal.system) throw new FerryError('FORBIDDEN', 'metrics cover every tenant: use a key of the system tenant');
        return reply.header('content-type', metrics.contentType).send(await metrics.render());
      },
    );
  };
}
