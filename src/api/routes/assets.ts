import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { AssetWithUrls } from '../../control/assets/assets-service.js';
import { FerryError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import type { ApiServices } from '../app.js';
import { parseRange } from '../byte-range.js';
import { originOf } from '../task-output.js';
import { AssetListQuery, AssetParams, CreateAssetBody, TransferQuerySchema } from '../schemas.js';
import { assetJson } from '../views.js';

const tags = ['assets'];


const withUrls = (a: AssetWithUrls) => ({
  ...assetJson(a.asset),
  ...(a.uploadUrl ? { uploadUrl: a.uploadUrl } : {}),
  ...(a.downloadUrl ? { downloadUrl: a.downloadUrl } : {}),
  expiresAt: a.urlExpiresAt === null ? null : new Date(a.urlExpiresAt).toISOString(),
});

export function assetRoutes({ assets }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateAssetBody> }>(
      '/v1/assets',
      { config: { scope: 'invoke' }, schema: { tags, summary: 'Create an asset: 201 with a pre-signed upload URL (PUT the bytes to it)', body: CreateAssetBody } },
      async (req, reply) => reply.status(201).send(withUrls(await assets.create(req.principal.tenantId, req.body, originOf(req)))),
    );

    app.get<{ Querystring: Static<typeof AssetListQuery> }>(
      '/v1/assets',
      { config: { scope: 'read' }, schema: { tags, summary: 'List assets, newest first', querystring: AssetListQuery } },
      async (req) => {
        const { limit, cursor, ...filter } = req.query;
        const page = await assets.list(req.principal.tenantId, filter, { limit: limit ?? LIMITS.defaultPageSize, cursor });
        return { items: page.items.map(assetJson), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: Static<typeof AssetParams> }>(
      '/v1/assets/:assetId',
      { config: { scope: 'read' }, schema: { tags, summary: 'An asset, with a pre-signed download URL once READY (an upload URL while PENDING)', params: AssetParams } },
      async (req) => withUrls(await assets.get(req.principal.tenantId, req.params.assetId, originOf(req))),
    );

    app.delete<{ Params: Static<typeof AssetParams> }>(
      '/v1/assets/:assetId',
      { config: { scope: 'invoke', audit: true }, schema: { tags, summary: 'Delete an asset and its bytes (refused while a queued or running task uses it)', params: AssetParams } },
      async (req, reply) => {
        await assets.delete(req.principal.tenantId, req.params.assetId);
        return reply.status(204).send();
      },
    );

    // The transfer URLs of the disk blob store: authorized by their signature, not by a key.
    await app.register(async (transfers) => {
      // The body is the asset's bytes, of any type and length: left unread for the handler to stream.
      transfers.removeAllContentTypeParsers();
      transfers.addContentTypeParser('*', (_req, _payload, done) => done(null));

      transfers.put<{ Params: Static<typeof AssetParams>; Querystring: Static<typeof TransferQuerySchema> }>(
        '/v1/blobs/:assetId',
        { schema: { tags, summary: 'Upload an asset’s bytes (a pre-signed URL from POST /v1/assets)', params: AssetParams, querystring: TransferQuerySchema, security: [] } },
        async (req, reply) => {
          const { maxBytes } = assets.authorize('PUT', req.params.assetId, req.query);
          const declared = Number(req.headers['content-length']);
          if (declared > maxBytes) throw new FerryError('PAYLOAD_TOO_LARGE', `the upload is ${declared} bytes; this URL allows at most ${maxBytes}; nothing was kept`);
          const asset = await assets.receive(req.params.assetId, req.raw, maxBytes);
          return reply.status(200).send(assetJson(asset));
        },
      );

      transfers.get<{ Params: Static<typeof AssetParams>; Querystring: Static<typeof TransferQuerySchema> }>(
        '/v1/blobs/:assetId',
        { schema: { tags, summary: 'Download an asset’s bytes, or a range of them (a pre-signed URL from GET /v1/assets/{assetId})', params: AssetParams, querystring: TransferQuerySchema, security: [] } },
        async (req, reply) => {
          assets.authorize('GET', req.params.assetId, req.query);
          const header = req.headers.range;
          const sent = await assets.send(req.params.assetId, (size) => parseRange(header, size));
          const { asset, range } = sent;
          void reply
            .header('content-type', asset.contentType)
            .header('accept-ranges', 'bytes')
            .header('etag', `"${asset.sha256}"`)
            .header('content-length', range ? range.end - range.start + 1 : asset.sizeBytes);
          if (asset.name) void reply.header('content-disposition', `attachment; filename="${asset.name.replace(/["\\\r\n]/g, '_')}"`);
          if (range) void reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.sizeBytes}`);
          return reply.send(sent.body);
        },
      );
    });
  };
}
