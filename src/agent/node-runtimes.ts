import { existsSync } from 'node:fs';
import { DockerRuntime, dockerConnection } from './runtimes/docker/docker-runtime.js';
import { ProcessRuntime } from './runtimes/process/process-runtime.js';
import type { Runtime } from './runtimes/runtime.js';

export interface NodeRuntimeOptions {
  /** The node's work directory (instances, task files). */
  workDir: string;
  /** DOCKER_HOST; null for the default socket. */
  dockerHost: string | null;
  /** Whether the node's GPUs were discovered (real, passed to containers) or declared (env only). */
  gpus: 'nvidia' | 'declared';
}

/**
 * The runtimes a node offers: `process` always, `docker` when a Docker Engine answers. The
 * engine client is loaded only when there is an engine to talk to (a unix socket that exists, or
 * a tcp DOCKER_HOST), so nodes without Docker never load it.
 */
export async function nodeRuntimes(options: NodeRuntimeOptions, log: (msg: string) => void): Promise<Map<string, Runtime>> {
  const runtimes = new Map<string, Runtime>([['process', new ProcessRuntime(options.workDir)]]);
  const host = options.dockerHost ?? undefined;
  const socket = dockerConnection(host).socketPath;
  if (typeof socket === 'string' && !existsSync(socket)) return runtimes;
  const docker = new DockerRuntime({ stateDir: options.workDir, host, gpus: options.gpus });
  try {
    const version = await docker.engineVersion();
    runtimes.set('docker', docker);
    log(`docker runtime: Docker Engine ${version} at ${host ?? 'unix:///var/run/docker.sock'}`);
  } catch (err) {
    log(`docker runtime off: no Docker Engine answers at ${host ?? 'unix:///var/run/docker.sock'} (${(err as Error).message})`);
  }
  return runtimes;
}
