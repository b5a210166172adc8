import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES, FerryServer, eventually, jobFunction, serverFunction } from './helpers/ferry-server.js';

describe('deployment lifecycle', () => {
  const server = new FerryServer(['--gpus', '2xH200:143771']);
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  const state = async (fn: string, ver: string, want: string) =>
    eventually(async () => {
      const d = await server.client.getDeployment(fn, ver);
      return d.state === want ? d : undefined;
    }, 20_000, `deployment ${want}`);

  it('puts a version that cannot start in ERROR with the reason', async () => {
    const fn = await server.client.createFunction({
      name: 'broken',
      version: { mode: 'server', runtime: { type: 'process', command: [process.execPath, '-e', 'console.error("no weights"); process.exit(7)'] } },
    });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const d = await state(fn.id, fn.version.id, 'ERROR');
    expect(d.reason).toMatch(/exited with code 7/);
    expect(d.reason).toMatch(/no weights/);
    expect(d.instances.filter((i) => i.state === 'FAILED').length).toBeGreaterThanOrEqual(3);
    await server.client.undeploy(fn.id, fn.version.id);
    await expect(server.client.invoke(fn.id, {})).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
  });

  it('is DEGRADED, with the reason, when one instance serves and the others keep failing to start', async () => {
    // The first instance takes a lock and serves; every later one finds it taken and exits.
    const lock = join(server.dataDir, 'degraded.lock');
    const start = `try { require('fs').writeFileSync(${JSON.stringify(lock)}, '', { flag: 'wx' }) } catch { console.error('device busy'); process.exit(3) } import(${JSON.stringify(join(FIXTURES, 'server.mjs'))})`;
    const base = serverFunction('halfbroken');
    const fn = await server.client.createFunction({ ...base, version: { ...base.version, runtime: { ...base.version.runtime, command: [process.execPath, '-e', start] } } });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 2, maxInstances: 2 });
    const d = await state(fn.id, fn.version.id, 'DEGRADED');
    expect(d.reason).toMatch(/instances keep failing \(\d+ in a row\): .*exited with code 3.*device busy/s);
    expect(d.instances.filter((i) => i.state === 'IDLE')).toHaveLength(1);
    expect(d.events.some((e) => e.kind === 'deployment' && e.to === 'DEGRADED')).toBe(true);
    expect((await server.client.invoke(fn.id, { still: 'serving' }, { waitSeconds: 10 })).done).toBe(true);
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('replaces an instance whose process dies, and the deployment keeps serving', async () => {
    // A unique argument marks this instance's process among the fixture servers of other test files.
    const tag = `--crashy-${process.pid}-${Date.now()}`;
    const base = serverFunction('crashy', { resources: { gpus: 1, gpuType: 'H200' } });
    const fn = await server.client.createFunction({ ...base, version: { ...base.version, runtime: { ...base.version.runtime, command: [...base.version.runtime.command, tag] } } });
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const first = await state(fn.id, fn.version.id, 'ACTIVE');
    const crashed = await server.client.invoke(fn.id, { sleepMs: 0 }, { waitSeconds: 20 });
    expect(crashed.done).toBe(true);
    // Kill the server process of the instance from outside, as a crash would.
    const ps = (await import('node:child_process')).execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    const line = ps.split('\n').find((l) => l.includes(tag));
    process.kill(Number(line!.trim().split(/\s+/)[0]), 'SIGKILL');
    const replaced = await eventually(async () => {
      const d = await server.client.getDeployment(fn.id, fn.version.id);
      const live = d.instances.find((i) => i.state === 'IDLE' && i.id !== first.instances[0]!.id);
      return live ? d : undefined;
    }, 20_000, 'a replacement instance');
    expect(replaced.instances.find((i) => i.id === first.instances[0]!.id)).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/killed by SIGKILL/) });
    expect((await server.client.invoke(fn.id, { again: true }, { waitSeconds: 20 })).done).toBe(true);
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('drains on a graceful undeploy: the running task finishes, then the instance stops', async () => {
    const fn = await server.client.createFunction(jobFunction('drainme'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    await state(fn.id, fn.version.id, 'ACTIVE');
    const task = await server.client.submit({ functionId: fn.id, input: { sleepMs: 1000, output: 'finished' } });
    await eventually(async () => ((await server.client.getTask(task.id)).status === 'RUNNING' ? true : undefined), 10_000, 'RUNNING');
    const d = await server.client.undeploy(fn.id, fn.version.id, { graceful: true });
    expect(d.state).toBe('INACTIVE');
    expect(d.instances[0]!.state).toBe('DRAINING');
    expect((await server.client.wait(task.id, { timeoutMs: 10_000 })).output).toBe('finished');
    await eventually(async () => ((await server.client.getDeployment(fn.id, fn.version.id)).instances.every((i) => i.state === 'STOPPED') ? true : undefined), 10_000, 'STOPPED');
  });

  it('re-queues running tasks on an immediate undeploy; they run again after a redeploy', async () => {
    const fn = await server.client.createFunction(jobFunction('requeue'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const task = await server.client.submit({ functionId: fn.id, input: { sleepMs: 800, output: 'second try' } });
    await eventually(async () => ((await server.client.getTask(task.id)).status === 'RUNNING' ? true : undefined), 10_000, 'RUNNING');
    await server.client.undeploy(fn.id, fn.version.id);
    expect(await server.client.getTask(task.id)).toMatchObject({ status: 'QUEUED', attempt: 2 });
    await server.client.deploy(fn.id, fn.version.id, { maxInstances: 1 });
    expect(await server.client.wait(task.id, { timeoutMs: 15_000 })).toMatchObject({ status: 'SUCCEEDED', attempt: 2, output: 'second try' });
  });
});
