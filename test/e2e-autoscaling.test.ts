import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentInfo, TaskInfo } from '../src/sdk/types.js';
import { FerryServer, eventually, serverFunction } from './helpers/ferry-server.js';

/** Queue-driven scaling through a real server, with short scaling windows. */
describe('autoscaling', () => {
  const server = new FerryServer(['--gpus', 'none'], { FERRY_LOAD_SAMPLE_MS: '100' });
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  const ENDED = new Set(['STOPPED', 'FAILED']);

  /** The most instances that were live at one time, replayed from the deployment's events. */
  function peakLive(events: DeploymentInfo['events']): number {
    const live = new Set<string>();
    let peak = 0;
    for (const e of events.filter((x) => x.kind === 'instance')) {
      if (e.to === 'STARTING') live.add(e.subject);
      if (ENDED.has(e.to)) live.delete(e.subject);
      peak = Math.max(peak, live.size);
    }
    return peak;
  }

  function liveCount(d: DeploymentInfo): number {
    return d.instances.filter((i) => !ENDED.has(i.state)).length;
  }

  async function allDone(ids: string[]): Promise<TaskInfo[]> {
    return Promise.all(ids.map((id) => server.client.wait(id, { timeoutMs: 30_000 })));
  }

  it('scales a burst of 40 tasks from 0 to 4 instances and back to 0, interrupting and losing nothing', async () => {
    const fn = await server.client.createFunction(serverFunction('burst'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 4, targetPerInstance: 2, scaleDownDelaySeconds: 1, scaleToZeroAfterSeconds: 1 });
    const firstEnqueue = Date.now();
    const submitted = await Promise.all(Array.from({ length: 40 }, (_, n) => server.client.submit({ functionId: fn.id, input: { n, sleepMs: 100 } })));

    const done = await allDone(submitted.map((t) => t.id));
    expect(done.map((t) => [t.status, t.attempt])).toEqual(done.map(() => ['SUCCEEDED', 1]));
    expect(done.map((t) => (t.output as { echo: { n: number } }).echo.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(new Set(done.map((t) => t.instanceId)).size).toBe(4);

    const drained = await eventually(async () => {
      const d = await server.client.getDeployment(fn.id, fn.version.id);
      return liveCount(d) === 0 ? d : undefined;
    }, 15_000, 'scale to zero');
    expect(drained.state).toBe('ACTIVE');
    expect(peakLive(drained.events)).toBe(4);
    // Every instance ended by draining, none by failing or being killed under a task.
    const instanceEnds = drained.events.filter((e) => e.kind === 'instance' && ENDED.has(e.to));
    expect(instanceEnds).toHaveLength(4);
    for (const e of instanceEnds) expect(e).toMatchObject({ to: 'STOPPED', reason: 'drained' });
    const scaling = drained.events.filter((e) => e.kind === 'scaling');
    expect(scaling[0]).toMatchObject({ from: '0', reason: expect.stringMatching(/^queued \d+, running \d+$/) });
    expect(scaling.at(-1)).toMatchObject({ to: '0' });
    // Event-driven: the first instance was asked for right after the first enqueue, not on a poll.
    const firstStart = drained.events.find((e) => e.kind === 'instance' && e.to === 'STARTING')!;
    expect(Date.parse(firstStart.at) - firstEnqueue).toBeLessThan(1_000);
    expect(await server.client.queue(fn.id)).toMatchObject({ queued: 0, running: 0, instances: {} });
    // The timeline has what the autoscaler saw: the queue, 4 serving instances at the peak, back to none.
    const { samples } = await server.client.deploymentTimeline('burst', fn.version.id);
    expect(samples.length).toBeGreaterThan(2);
    expect(Math.max(...samples.map((s) => s.queued + s.running))).toBeGreaterThanOrEqual(8);
    expect(Math.max(...samples.map((s) => s.instances))).toBe(4);
    expect(Math.max(...samples.map((s) => s.desired))).toBe(4);
    expect(samples.map((s) => s.at)).toEqual([...samples.map((s) => s.at)].sort());

    // The CLI shows the same: the deployment, its instances and its latest events.
    const status = await server.cli('deploy', 'status', 'burst', '--events', '50');
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^VERSIONID\s+STATE\s+REASON/);
    expect(status.stdout).toMatch(/AT\s+KIND\s+SUBJECT\s+FROM\s+TO\s+REASON/);
    expect(status.stdout).toMatch(/scaling\s+ver_\S+\s+0\s+\d\s+queued \d+, running \d+/);
    expect(status.stdout.match(/instance\s+ins_\S+\s+DRAINING\s+STOPPED\s+drained/g)).toHaveLength(4);
    const queue = await server.cli('queue', 'burst');
    expect(queue.stdout).toMatch(/queued\s+running\s+instances/i);
    expect(queue.stdout).toMatch(/\s0\s+0\s+none\s+40\s*$/m);
  });

  it('scale-in while tasks run stops no busy instance: it drains, its task finishes on the first attempt', async () => {
    const fn = await server.client.createFunction(serverFunction('scalein'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 2, maxInstances: 2, targetPerInstance: 1, scaleDownDelaySeconds: 0, scaleToZeroAfterSeconds: 0 });
    const ids = (await Promise.all([0, 1].map(() => server.client.submit({ functionId: fn.id, input: { sleepMs: 1_500 } })))).map((t) => t.id);
    await eventually(async () => {
      const q = await server.client.queue(fn.id, fn.version.id);
      return q.instances.BUSY === 2 ? q : undefined;
    }, 15_000, 'two busy instances');

    // A live update: at most one instance now, none once idle.
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1 });
    const draining = await eventually(async () => {
      const d = await server.client.getDeployment(fn.id, fn.version.id);
      return d.instances.some((i) => i.state === 'DRAINING') ? d : undefined;
    }, 5_000, 'a draining instance');
    expect(draining.instances.filter((i) => i.state === 'DRAINING')).toHaveLength(1);
    expect(draining.events.some((e) => e.to === 'DRAINING' && e.reason === 'scale-in: busy, stops after its tasks')).toBe(true);

    const done = await allDone(ids);
    expect(done.map((t) => [t.status, t.attempt])).toEqual([['SUCCEEDED', 1], ['SUCCEEDED', 1]]);
    const after = await eventually(async () => {
      const d = await server.client.getDeployment(fn.id, fn.version.id);
      return liveCount(d) === 0 ? d : undefined;
    }, 15_000, 'scale to zero');
    // The drained instance stopped only after its task finished.
    const drainedId = draining.instances.find((i) => i.state === 'DRAINING')!.id;
    const stopped = after.events.find((e) => e.subject === drainedId && e.to === 'STOPPED')!;
    const itsTask = done.find((t) => t.instanceId === drainedId)!;
    expect(Date.parse(stopped.at)).toBeGreaterThanOrEqual(Date.parse(itsTask.finishedAt!));
  });

  it('applies a raised maximum live to work already queued', async () => {
    const fn = await server.client.createFunction(serverFunction('raise'));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 0, maxInstances: 1, targetPerInstance: 1 });
    const ids = (await Promise.all([0, 1, 2, 3].map(() => server.client.submit({ functionId: fn.id, input: { sleepMs: 1_000 } })))).map((t) => t.id);
    await eventually(async () => ((await server.client.queue(fn.id)).instances.BUSY === 1 ? true : undefined), 15_000, 'one busy instance');
    await server.client.deploy(fn.id, fn.version.id, { maxInstances: 3 });
    await eventually(async () => ((await server.client.queue(fn.id)).instances.BUSY === 3 ? true : undefined), 15_000, 'three busy instances');
    expect((await allDone(ids)).every((t) => t.status === 'SUCCEEDED' && t.attempt === 1)).toBe(true);
  });

  it('sends work to an idle instance before a busy one with a free slot', async () => {
    const fn = await server.client.createFunction(serverFunction('idlefirst', { concurrency: 4 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 2, maxInstances: 2 });
    await eventually(async () => ((await server.client.queue(fn.id)).instances.IDLE === 2 ? true : undefined), 15_000, 'two idle instances');
    for (let round = 0; round < 3; round++) {
      const first = await server.client.submit({ functionId: fn.id, input: { sleepMs: 1_000 } });
      const running = await eventually(async () => {
        const t = await server.client.getTask(first.id);
        return t.status === 'RUNNING' ? t : undefined;
      }, 10_000, 'the first task running');
      const second = await server.client.wait((await server.client.submit({ functionId: fn.id, input: {} })).id, { timeoutMs: 10_000 });
      expect(second.instanceId).not.toBe(running.instanceId);
      await server.client.wait(first.id, { timeoutMs: 10_000 });
    }
  });
});
