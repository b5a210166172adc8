import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AssetsService } from '../control/assets/assets-service.js';
import { outputBody } from '../core/outputs.js';
import type { TaskRecord } from '../core/types.js';

/** Where the caller reached this server: the base of the transfer URLs Ferry serves itself. */
export const originOf = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;

/**
 * Answers with a succeeded task's output as the function gave it: its bytes and type, or, when the
 * output is an asset (large or binary), a 302 to a pre-signed download of it (clients that follow
 * redirects get the same bytes and type).
 */
export async function sendOutput(req: FastifyRequest, reply: FastifyReply, assets: AssetsService, task: TaskRecord, status = 200): Promise<FastifyReply> {
  if (task.outputAsset) {
    const { downloadUrl } = await assets.get(task.tenantId, task.outputAsset, originOf(req));
    return reply.redirect(downloadUrl!, 302);
  }
  const { contentType, body } = outputBody(task);
  return reply.status(status).header('content-type', contentType).send(Buffer.from(body));
}
