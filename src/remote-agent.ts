import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from './agent/agent.js';
import { discoverGpus } from './agent/gpu-discovery.js';
import { HttpAgentClient } from './agent/http-agent-client.js';
import { localNodeId } from './agent/node-id.js';
import { nodeRuntimes } from './agent/node-runtimes.js';
import type { RemoteAgentConfig } from './config.js';
import { sleep } from './core/clock.js';
import type { GpuDevice } from './core/gpu-spec.js';
import type { Logger } from 'pino';

/** How long a stopping agent waits for its last reports before it gives up on them. */
const CLOSE_WAIT_MS = 3_000;

export interface RunningAgent {
  nodeId: string;
  gpus: GpuDevice[];
  close(): Promise<void>;
}

/**
 * The composition root of `ferry agent`: a node that serves a control plane on another machine
 * over HTTP, with the same agent and runtimes as the server's local one.
 */
export async function startRemoteAgent(config: RemoteAgentConfig, log: Logger): Promise<RunningAgent> {
  await mkdir(config.dataDir, { recursive: true });
  const onError = (err: unknown): void => log.error({ err }, (err as Error)?.message ?? String(err));
  const nodeId = await localNodeId(config.dataDir);
  const client = new HttpAgentClient({
    servers: config.servers,
    token: config.token,
    onRetry: (err, server) => log.warn({ code: err.code, server }, `no answer from ${server}, trying again: ${err.message}`),
  });
  const workDir = join(config.dataDir, 'node');
  const runtimes = await nodeRuntimes({ workDir, dockerHost: config.dockerHost, gpus: config.gpus ? 'declared' : 'nvidia' }, (msg) => log.info(msg));
  const gpus = config.gpus ?? (await discoverGpus());
  const agent = new Agent(client, runtimes, { nodeId, nodeName: config.nodeName, gpus, workDir, ...config.timers, assetCacheBytes: config.assetCacheBytes, controlUrl: config.servers[0]! }, onError);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(onError);
    client.close();
    throw err;
  }
  return {
    nodeId,
    gpus,
    close: async () => {
      // Stopped work still sends its last log lines; but a control plane that does not answer
      // must not hold the stop up, so after a while the client closes and its calls give up.
      const stopped = new AbortController();
      const stopping = agent.stop().finally(() => stopped.abort());
      await sleep(CLOSE_WAIT_MS, stopped.signal);
      client.close();
      await stopping;
    },
  };
}
