import { invalid } from './errors.js';
import { LIMITS } from './limits.js';
import type { TaskType } from './states.js';
import type { Destinations } from './destinations.js';
import type { VersionSpec } from './types.js';

/** A version spec as a client sends it: the API schema checked its shape; defaults are not yet applied. */
export interface VersionSpecInput {
  mode: 'server' | 'job';
  runtime: VersionSpec['runtime'];
  init?: string[];
  server?: { inferencePath?: string; healthPath?: string; startupTimeoutSeconds?: number };
  job?: { command: string[]; output?: 'file' | 'lastStdoutLine' };
  resources?: Partial<VersionSpec['resources']>;
  concurrency?: number;
  timeoutSeconds?: number;
  maxQueuedSeconds?: number;
  retries?: number;
  stopGraceSeconds?: number;
  destinations?: Destinations;
}

/**
 * Applies defaults and checks what a schema cannot: that the runtime has what its mode needs.
 * Errors name the field, as the API reports them.
 */
export function normalizeVersionSpec(input: VersionSpecInput): VersionSpec {
  const { runtime } = input;
  if (runtime.type === 'docker' && !runtime.image) throw invalid('version.runtime.image: required for runtime type docker');
  if (runtime.type === 'process' && runtime.image) throw invalid('version.runtime.image: only for runtime type docker');
  if (runtime.type === 'process' && runtime.pullPolicy) throw invalid('version.runtime.pullPolicy: only for runtime type docker');
  const hasServer = input.server !== undefined || input.mode === 'server';
  if (hasServer && !runtime.command?.length && runtime.type === 'process') {
    throw invalid('version.runtime.command: required for a server-mode process function (it starts the server)');
  }
  if (input.mode === 'job' && !input.job) throw invalid('version.job: required when mode is job');
  const resources = { gpus: 0, ...input.resources };
  if (resources.gpuMemoryMiB !== undefined && resources.gpus === 0) resources.gpus = 1;
  return {
    mode: input.mode,
    runtime,
    ...(input.init ? { init: input.init } : {}),
    ...(hasServer
      ? {
          server: {
            inferencePath: input.server?.inferencePath ?? '/',
            healthPath: input.server?.healthPath ?? '/health',
            startupTimeoutSeconds: input.server?.startupTimeoutSeconds ?? 600,
          },
        }
      : {}),
    ...(input.job ? { job: { command: input.job.command, output: input.job.output ?? 'file' } } : {}),
    resources,
    concurrency: input.concurrency ?? 1,
    timeoutSeconds: input.timeoutSeconds ?? LIMITS.defaultTimeoutSeconds,
    maxQueuedSeconds: input.maxQueuedSeconds ?? LIMITS.defaultMaxQueuedSeconds,
    retries: input.retries ?? 0,
    stopGraceSeconds: input.stopGraceSeconds ?? LIMITS.defaultStopGraceSeconds,
    ...(input.destinations ? { destinations: input.destinations } : {}),
  };
}

/** The task type a version runs when a task names none, and whether it runs a given one. */
export function defaultTaskType(spec: VersionSpec): TaskType {
  return spec.mode === 'server' ? 'query' : 'command';
}

export function supportsTaskType(spec: VersionSpec, type: TaskType): boolean {
  return type === 'query' ? spec.server !== undefined : spec.job !== undefined;
}
