import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalTask } from '../src/core/states.js';
import type { TaskInfo } from '../src/sdk/client.js';
import { TEST_DOCKER_HOST, TEST_IMAGE, containerPidRunning, dockerAvailable, ensureTestImage, testDocker } from './helpers/docker.js';
import { FIXTURES, FerryServer, eventually } from './helpers/ferry-server.js';

const available = await dockerAvailable();
if (available) await ensureTestImage();

/** A job that reports its pid (as the container sees it) as its progress message, then works for input.ms. */
const SLOW_JOB = `
const fs = require('node:fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.writeFileSync(process.env.FERRY_PROGRESS_FILE, JSON.stringify({ progress: 10, message: String(process.pid) }));
setTimeout(() => fs.writeFileSync(process.env.FERRY_OUTPUT_FILE, JSON.stringify({ done: input.n, attempt: process.env.FERRY_ATTEMPT })), input.ms);
`;

/** Ferry with its local agent on a Docker Engine, running functions from an image built here. */
describe.skipIf(!available)('docker functions end to end', () => {
  const server = new FerryServer(['--gpus', '1xH200:143771'], { DOCKER_HOST: TEST_DOCKER_HOST });
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.dispose();
  });

  async function ended(id: string, ms = 20_000): Promise<TaskInfo> {
    return eventually(async () => {
      const t = await server.client.getTask(id);
      return isTerminalTask(t.status) ? t : undefined;
    }, ms, `task ${id} to end\n${server.log}`);
  }

  it('serves a server-mode image through the API', async () => {
    const source = readFileSync(join(FIXTURES, 'server.mjs'), 'utf8');
    const fn = await server.client.createFunction({
      name: 'docker-echo',
      version: {
        mode: 'server',
        runtime: { type: 'docker', image: TEST_IMAGE, pullPolicy: 'Never', command: ['/usr/bin/node', '--input-type=module', '-e', source] },
        server: { inferencePath: '/infer', healthPath: '/health', startupTimeoutSeconds: 20 },
        resources: { cpus: 0.5, memoryMiB: 256 },
        stopGraceSeconds: 1,
      },
    });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const result = await server.client.invoke(fn.id, { hello: 'container' }, { waitSeconds: 30 });
    expect(result).toMatchObject({ done: true, output: { echo: { hello: 'container' }, attempt: 1 } });
    const [instance] = (await server.client.instances()).items.filter((i) => i.versionId === fn.version.id);
    const container = await testDocker().getContainer(`ferry-${instance!.id}`).inspect();
    expect(container.State.Running).toBe(true);
    expect(container.Config.Labels['io.ferry.instance']).toBe(instance!.id);
    // resources.cpus and memoryMiB become the container's limits.
    expect([container.HostConfig.NanoCpus, container.HostConfig.Memory]).toEqual([500_000_000, 256 * 1024 * 1024]);
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('runs job-mode tasks as execs, stops a cancelled one within 2 s and times one out', async () => {
    const fn = await server.client.createFunction({
      name: 'docker-job',
      version: {
        mode: 'job',
        runtime: { type: 'docker', image: TEST_IMAGE, pullPolicy: 'Never' },
        job: { command: ['/usr/bin/node', '-e', SLOW_JOB] },
        concurrency: 3,
        stopGraceSeconds: 1,
      },
    });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const quick = await server.client.submit({ functionId: fn.id, input: { n: 1, ms: 50 } });
    const cancelled = await server.client.submit({ functionId: fn.id, input: { n: 2, ms: 60_000 } });
    const timedOut = await server.client.submit({ functionId: fn.id, input: { n: 3, ms: 60_000 }, timeoutSeconds: 1 });

    expect(await ended(quick.id)).toMatchObject({ status: 'SUCCEEDED', output: { done: 1, attempt: '1' }, error: null });
    const pid = Number(
      await eventually(async () => (await server.client.getTask(cancelled.id)).progressMessage ?? undefined, 20_000, 'the job to report its pid'),
    );
    expect(containerPidRunning(pid)).toBe(true);
    const t0 = Date.now();
    await server.client.cancelTask(cancelled.id);
    await eventually(async () => (containerPidRunning(pid) ? undefined : true), 2_000, 'the cancelled exec to be gone');
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await ended(cancelled.id)).toMatchObject({ status: 'CANCELLED' });
    expect(await ended(timedOut.id)).toMatchObject({ status: 'TIMED_OUT' });
    await server.client.undeploy(fn.id, fn.version.id);
    await eventually(async () => ((await testDocker().listContainers({ all: true, filters: { label: ['io.ferry.instance'] } })).length === 0 ? true : undefined), 10_000, 'containers removed after undeploy');
  });

  it('says in the instance events that declared GPUs reach the container as env only', async () => {
    const fn = await server.client.createFunction({
      name: 'docker-gpu',
      version: {
        mode: 'job',
        runtime: { type: 'docker', image: TEST_IMAGE, pullPolicy: 'Never' },
        job: { command: ['/usr/bin/node', '-e', 'require("node:fs").writeFileSync(process.env.FERRY_OUTPUT_FILE, JSON.stringify(process.env.CUDA_VISIBLE_DEVICES + "/" + process.env.NVIDIA_VISIBLE_DEVICES))'] },
        resources: { gpus: 1, gpuType: 'H200' },
        stopGraceSeconds: 1,
      },
    });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const task = await server.client.submit({ functionId: fn.id, input: {} });
    expect(await ended(task.id)).toMatchObject({ status: 'SUCCEEDED', output: '0/0' });
    const { events } = await server.client.getDeployment(fn.id, fn.version.id);
    expect(events.some((e) => e.kind === 'instance' && /declared, not discovered/.test(e.reason))).toBe(true);
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('puts a deployment whose image is not on the node (pullPolicy Never) in ERROR, naming the image', async () => {
    const fn = await server.client.createFunction({
      name: 'docker-missing',
      version: { mode: 'job', runtime: { type: 'docker', image: 'ferry-test/not-here:1', pullPolicy: 'Never' }, job: { command: ['true'] } },
    });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const failed = await eventually(async () => {
      const d = await server.client.getDeployment(fn.id, fn.version.id);
      return d.state === 'ERROR' ? d : undefined;
    }, 20_000, `the deployment to be in ERROR\n${server.log}`);
    expect(failed.reason).toMatch(/ferry-test\/not-here:1 is not on this node and its pullPolicy is Never/);
    await server.client.undeploy(fn.id, fn.version.id);
  });
});
