import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { FerryError, invalid } from '../../core/errors.js';
import type { ApiServices } from '../app.js';
import { LIMITS } from '../../core/limits.js';
import { AuditQuery, CreateKeyBody, CreateTenantBody, KeyParams, QuotasBody, TenantParams } from '../schemas.js';
import { auditJson, keyJson } from '../views.js';

const tags = ['tenancy'];

export function tenancyRoutes({ auth, audit }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateKeyBody> }>(
      '/v1/keys',
      { config: { scope: 'admin' }, schema: { tags, summary: "Create an API key in the caller's tenant; the secret is shown once", body: CreateKeyBody } },
      async (req, reply) => {
        const { key, secret } = await auth.createKey(req.principal.tenantId, req.body.name, req.body.scope, req.body.ttlSeconds);
        return reply.status(201).send({ ...keyJson(key), key: secret });
      },
    );

    app.get(
      '/v1/keys',
      { config: { scope: 'admin' }, schema: { tags, summary: "The tenant's API keys and node tokens: prefix, name, scope, created, last used, expiry, revocation (never the secret)" } },
      async (req) => ({ items: (await auth.listKeys(req.principal.tenantId)).map(keyJson) }),
    );

    app.delete<{ Params: Static<typeof KeyParams> }>(
      '/v1/keys/:keyId',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Revoke a key: every replica answers it 401 KEY_REVOKED within a second', params: KeyParams } },
      async (req, reply) => {
        await auth.revokeKey(req.principal.tenantId, req.params.keyId);
        return reply.status(204).send();
      },
    );

    app.get<{ Querystring: Static<typeof AuditQuery> }>(
      '/v1/audit',
      { config: { scope: 'admin' }, schema: { tags, summary: "The tenant's changes, newest first: who (key), when, what (route and ids), from where", querystring: AuditQuery } },
      async (req) => {
        const q = req.query;
        const page = await audit.list(
          req.principal.tenantId,
          { ...(q.action ? { action: q.action } : {}), ...(q.keyId ? { keyId: q.keyId } : {}), ...(q.since ? { since: Date.parse(q.since) } : {}), ...(q.until ? { until: Date.parse(q.until) } : {}) },
          { limit: q.limit ?? LIMITS.defaultPageSize, cursor: q.cursor },
        );
        return { items: page.items.map(auditJson), nextCursor: page.nextCursor };
      },
    );

    app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof QuotasBody> }>(
      '/v1/tenants/:tenantId/quotas',
      { config: { scope: 'admin' }, schema: { tags, summary: "Set a tenant's rates (system admins): requestsPerSecond, submitsPerSecond; every replica applies them within a second", params: TenantParams, body: QuotasBody } },
      async (req) => {
        const { requestsPerSecond, submitsPerSecond, ...rest } = req.body;
        const other = Object.keys(rest)[0];
        if (other) throw invalid(`${other}: quotas on work and capacity are not available yet; requestsPerSecond and submitsPerSecond are`);
        const tenant = await auth.setQuotas(req.principal, req.params.tenantId, {
          ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
          ...(submitsPerSecond !== undefined ? { submitsPerSecond } : {}),
        });
        return { tenantId: tenant.id, quotas: tenant.quotas };
      },
    );

    app.get(
      '/v1/quotas',
      { config: { scope: 'read' }, schema: { tags, summary: "The caller's tenant's rates (the RateLimit headers of each answer tell what is left)" } },
      async (req) => ({ tenantId: req.principal.tenantId, quotas: req.principal.quotas }),
    );

    app.post<{ Body: Static<typeof CreateTenantBody> }>(
      '/v1/tenants',
      { config: { scope: 'admin' }, schema: { tags, summary: 'Create a tenant with its first admin key (system tenant admins only)', body: CreateTenantBody } },
      async (req, reply) => {
        if (!req.principal.system) throw new FerryError('FORBIDDEN', 'only admins of the system tenant may create tenants');
        const { tenant, key, secret } = await auth.createTenant(req.body.name);
        return reply.status(201).send({ id: tenant.id, name: tenant.name, adminKey: { id: key.id, scope: key.scope, key: secret } });
      },
    );
  };
}
