import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'vitest';
import { TEST_DOCKER_HOST, TEST_IMAGE, containerPidRunning, dockerAvailable, ensureTestImage } from '../../../../test/helpers/docker.js';
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
} else {
  describe('runtime contract: docker', () => {
    it.skip(`needs a Docker Engine at ${TEST_DOCKER_HOST} (FERRY_TEST_DOCKER_HOST)`, () => {});
  });
}
