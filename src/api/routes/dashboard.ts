import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Where `npm run build` writes the dashboard. This file runs from src/api/routes under tsx and
 * from dist/api/routes when built; both sit three levels below the package root.
 */
export const DASHBOARD_DIR = resolve(import.meta.dirname, '../../../dist/dashboard');

// The page holds the user's key in localStorage: only its own scripts may run, and it talks to
// this server alone. Inline styles stay allowed for the chart's and progress bars' sizes.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
/** Sent with the page wherever it is asked for (`/` or `/index.html`): its policy, and no caching (its asset names change with each build). */
const PAGE_HEADERS = { 'content-security-policy': CSP, 'x-frame-options': 'DENY', 'cache-control': 'no-cache' };

/**
 * The browser dashboard at `/`, without auth: the page and its assets hold no data, and every
 * call it makes carries the user's own key. The API's routes are registered by name and win over
 * the static wildcard; a path that is no file falls through to the API's JSON 404.
 */
export function dashboardRoutes(dir = DASHBOARD_DIR) {
  return async (app: FastifyInstance): Promise<void> => {
    // Checked per request, so a build made while the server runs is served without a restart.
    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      if (!existsSync(join(dir, 'index.html'))) {
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send(`The Ferry dashboard is not built: ${dir} has no index.html. Run \`npm run build\` to build it; the API is at /v1.\n`);
      }
      return reply.headers(PAGE_HEADERS).sendFile('index.html', dir, { cacheControl: false });
    });
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      // Vite names assets by content hash, so they never change under the same URL; the page itself
      // is only ever sent by the route above, with its policy and no caching.
      immutable: true,
      maxAge: '365d',
      index: false,
      schemaHide: true,
      setHeaders: (reply, path) => {
        if (path.endsWith('.html')) void reply.headers(PAGE_HEADERS);
      },
    });
  };
}
