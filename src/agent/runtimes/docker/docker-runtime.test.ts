import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_DOCKER_HOST, TEST_IMAGE, containerPidRunning, dockerAvailable, ensureTestImage, testDocker } from '../../../../test/helpers/docker.js';
import { runRuntimeContract } from '../runtime.contract.js';
import { DockerRuntime } from './docker-runtime.js';

const available = await dockerAvailable();
if (available) await ensureTestImage();

if (available) {
  runRuntimeContract(
    'docker',
    (stateDir) => new DockerRuntime({ stateDir, host: TEST_DOCKER_HOST, gpus: 'declared', mounts: [dirname(stateDir)] }),
    {
      runtime: { type: 'docker', image: TEST_IMAGE, pullPolicy: 'Never' },
      node: (script) => ['/usr/bin/node', '-e', script],
      makeDir: () => mkdtemp(join(tmpdir(), 'ferry-docker-runtime-')),
      isRunning: containerPidRunning,
    },
  );

  describe('docker runtime: discovered GPUs', () => {
    it('asks the engine for the assigned devices through the nvidia driver, and removes the container when it cannot have them', async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'ferry-docker-gpus-'));
      const runtime = new DockerRuntime({ stateDir, host: TEST_DOCKER_HOST, gpus: 'nvidia' });
      const instanceId = `ins_gpu${Date.now()}`;
      const events: string[] = [];
      const version = {
        id: 'ver_gpu',
        tenantId: 'ten_gpu',
        functionId: 'fn_gpu',
        number: 1,
        createdAt: Date.now(),
        spec: {
          mode: 'job' as const,
          runtime: { type: 'docker' as const, image: TEST_IMAGE, pullPolicy: 'Never' as const },
          job: { command: ['true'], output: 'file' as const },
          resources: { gpus: 2, gpuType: 'H200' },
          concurrency: 1,
          timeoutSeconds: 60,
          maxQueuedSeconds: 3600,
          retries: 0,
          stopGraceSeconds: 1,
        },
      };
      try {
        const ctx = { instanceId, version, gpus: [{ index: 1, type: 'H200' }, { index: 3, type: 'H200' }], workDir: join(stateDir, instanceId), onLog: () => {}, onEvent: (m: string) => events.push(m) };
        const engineHasNvidia = Object.keys((await testDocker().info()).Runtimes ?? {}).includes('nvidia');
        if (engineHasNvidia) {
          const instance = await runtime.start(ctx, new AbortController().signal);
          const { HostConfig } = await testDocker().getContainer(`ferry-${instanceId}`).inspect();
          expect(HostConfig.DeviceRequests).toEqual([expect.objectContaining({ Driver: 'nvidia', DeviceIDs: ['1', '3'] })]);
          await instance.stop(1000);
        } else {
          // An engine without the NVIDIA Container Toolkit refuses the device request by its driver's name.
          await expect(runtime.start(ctx, new AbortController().signal)).rejects.toThrow(/device driver "nvidia"/);
        }
        expect(events.join('\n')).not.toMatch(/declared/);
        expect(await testDocker().listContainers({ all: true, filters: { label: [`io.ferry.instance=${instanceId}`] } })).toEqual([]);
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  });
} else {
  describe('runtime contract: docker', () => {
    it.skip(`needs a Docker Engine at ${TEST_DOCKER_HOST} (FERRY_TEST_DOCKER_HOST)`, () => {});
  });
}
