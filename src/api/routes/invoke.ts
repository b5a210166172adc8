import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { TaskView } from '../../control/tasks-service.js';
import { ASSET_ID } from '../../core/assets.js';
import { FerryError, invalid } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import type { AssetsService } from '../../control/assets/assets-service.js';
import { TASK_TYPES, type TaskType } from '../../core/states.js';
import type { ApiServices } from '../app.js';
import { FunctionParams, VersionParams } from '../schemas.js';
import { sendOutput } from '../task-output.js';
import { taskJson } from '../views.js';

const tags = ['invoke'];
const description =
  'The body is the input (JSON, or text). Waits up to `Prefer: wait=N` seconds (default 5): 200 with the output when the task ' +
  'finished, an error status when it failed, else 202 with a Location to poll. `Prefer: respond-async` answers 202 at once. ' +
  '`Idempotency-Key` returns the same task on a retry; `Ferry-Task-Type`, `Ferry-Priority` and `Ferry-Timeout-Seconds` set those task fields; `Ferry-Input-Assets: id,id` names its input assets.';

/** `Prefer: respond-async, wait=10` (RFC 7240). */
export function parsePrefer(header: string | undefined): { async: boolean; waitSeconds: number } {
  let async = false;
  let waitSeconds: number = LIMITS.defaultSyncWaitSeconds;
  for (const part of (header ?? '').split(/[,;]/)) {
    const [k, v] = part.trim().split('=').map((s) => s.trim().toLowerCase());
    if (k === 'respond-async') async = true;
    else if (k === 'wait' && v !== undefined) {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw invalid(`Prefer: wait=${v} is not a number of seconds`);
      waitSeconds = Math.min(n, LIMITS.maxSyncWaitSeconds);
    }
  }
  return { async, waitSeconds };
}

function intHeader(req: FastifyRequest, name: string, min: number, max: number): number | undefined {
  const raw = req.headers[name.toLowerCase()];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name}: must be a whole number from ${min} to ${max}`);
  return n;
}

/** The input of an invoke: parsed JSON, text as a string, no body as null. */
function inputOf(req: FastifyRequest): unknown {
  const body = req.body;
  if (body === undefined || body === null) return null;
  if (Buffer.isBuffer(body)) {
    const type = String(req.headers['content-type'] ?? '');
    if (body.length === 0) return null;
    if (type.startsWith('text/')) return body.toString('utf8');
    throw new FerryError('UNSUPPORTED_MEDIA_TYPE', `content-type ${type || '(none)'}: send the input as application/json or text/plain; binary inputs go in assets`);
  }
  return body;
}

/** Answers an invoke from the task as it stands after the wait. */
async function sendTaskResult(req: FastifyRequest, reply: FastifyReply, assets: AssetsService, task: TaskView): Promise<FastifyReply> {
  void reply.header('ferry-task-id', task.id).header('ferry-task-status', task.status);
  switch (task.status) {
    case 'SUCCEEDED':
      return sendOutput(req, reply, assets, task);
    case 'FAILED':
      throw new FerryError('TASK_FAILED', `task ${task.id} failed: ${task.error?.message ?? 'no reason given'}`, { details: { taskId: task.id, error: task.error } });
    case 'TIMED_OUT':
      throw new FerryError('TASK_TIMED_OUT', `task ${task.id} ran longer than its timeout`, { details: { taskId: task.id, error: task.error } });
    case 'CANCELLED':
      throw new FerryError('TASK_CANCELLED', `task ${task.id} was cancelled`, { details: { taskId: task.id } });
    case 'EXPIRED':
      throw new FerryError('TASK_EXPIRED', `task ${task.id} expired in the queue`, { details: { taskId: task.id } });
    default:
      return reply
        .status(202)
        .header('location', `/v1/tasks/${task.id}`)
        .header('retry-after', '1')
        .send({ taskId: task.id, ...taskJson(task, false) });
  }
}

/** `Ferry-Input-Assets: asset_a, asset_b`: the task's input assets. */
function inputAssetsHeader(req: FastifyRequest): string[] | undefined {
  const header = req.headers['ferry-input-assets'];
  if (header === undefined) return undefined;
  const ids = [header].flat().join(',').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = ids.find((id) => !ASSET_ID.test(id));
  if (bad !== undefined) throw invalid(`Ferry-Input-Assets: "${bad}" is not an asset id`);
  if (ids.length > LIMITS.maxInputAssets) throw invalid(`Ferry-Input-Assets: at most ${LIMITS.maxInputAssets} assets`);
  if (new Set(ids).size !== ids.length) throw invalid('Ferry-Input-Assets: an asset is named twice');
  return ids;
}

export function invokeRoutes({ tasks, assets }: ApiServices) {
  return async (app: FastifyInstance): Promise<void> => {
    const handle = async (req: FastifyRequest, reply: FastifyReply, functionId: string, versionId?: string): Promise<FastifyReply> => {
      const prefer = parsePrefer([req.headers.prefer ?? []].flat().join(","));
      const typeHeader = req.headers['ferry-task-type'];
      if (typeHeader !== undefined && !(TASK_TYPES as readonly string[]).includes(String(typeHeader))) throw invalid(`Ferry-Task-Type: must be one of ${TASK_TYPES.join(', ')}`);
      const key = req.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) throw invalid('Idempotency-Key: must be 1 to 256 characters');
      const { task } = await tasks.submit(req.principal.tenantId, {
        functionId,
        versionId,
        input: inputOf(req),
        taskType: typeHeader as TaskType | undefined,
        priority: intHeader(req, 'Ferry-Priority', LIMITS.minPriority, LIMITS.maxPriority),
        timeoutSeconds: intHeader(req, 'Ferry-Timeout-Seconds', 1, LIMITS.maxTimeoutSeconds),
        idempotencyKey: key as string | undefined,
        inputAssets: inputAssetsHeader(req),
      });
      if (prefer.async || prefer.waitSeconds === 0) return sendTaskResult(req, reply, assets, task);
      return sendTaskResult(req, reply, assets, await tasks.waitForEnd(req.principal.tenantId, task.id, prefer.waitSeconds * 1000));
    };

    app.post<{ Params: Static<typeof FunctionParams> }>(
      '/v1/functions/:functionId/invoke',
      { config: { scope: 'invoke', submits: 'one' }, schema: { tags, summary: 'Invoke a function (an active version chosen at random)', description, params: FunctionParams } },
      (req, reply) => handle(req, reply, req.params.functionId),
    );
    app.post<{ Params: Static<typeof VersionParams> }>(
      '/v1/functions/:functionId/versions/:versionId/invoke',
      { config: { scope: 'invoke', submits: 'one' }, schema: { tags, summary: 'Invoke one version', description, params: VersionParams } },
      (req, reply) => handle(req, reply, req.params.functionId, req.params.versionId),
    );
  };
}
