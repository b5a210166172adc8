import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../src/control/deployments-service.js';
import { outputValue } from '../src/core/outputs.js';
import { InProcessFleet } from './helpers/in-process-fleet.js';
import { FIXTURES, eventually, serverFunction } from './helpers/ferry-server.js';

/** Placement across several in-process nodes with declared inventories, real instance processes. */
describe('GPU placement across nodes', () => {
  let fleet: InProcessFleet;
  beforeEach(async () => {
    fleet = await new InProcessFleet().start();
  });
  afterEach(async () => {
    await fleet.dispose();
    expect(fleet.errors).toEqual([]);
  });

  async function deploy(name: string, resources: Record<string, unknown>, minInstances: number, command?: string[]): Promise<{ functionId: string; versionId: string }> {
    const base = serverFunction(name, { resources });
    const def = command ? { ...base, version: { ...base.version, runtime: { ...base.version.runtime, command } } } : base;
    const { function: fn, version } = await fleet.control.functions.create(fleet.tenantId, def);
    await fleet.control.deployments.put(fleet.tenantId, fn.id, version.id, { minInstances, maxInstances: minInstances });
    return { functionId: fn.id, versionId: version.id };
  }

  function live(d: DeploymentView): DeploymentView['instances'] {
    return d.instances.filter((i) => i.state !== 'STOPPED' && i.state !== 'FAILED');
  }

  function settled(ids: { functionId: string; versionId: string }, ready: number, reason: RegExp | null): Promise<DeploymentView> {
    return eventually(async () => {
      const d = await fleet.control.deployments.get(fleet.tenantId, ids.functionId, ids.versionId);
      const idle = live(d).filter((i) => i.state === 'IDLE').length;
      const reasonOk = reason === null ? d.reason === null : reason.test(d.reason ?? '');
      return idle === ready && reasonOk ? d : undefined;
    }, 15_000, `${ready} ready instance(s) of ${ids.versionId}`);
  }

  it('packs four 20 GiB instances on one 80 GiB GPU, refuses a fifth with the reason, and places it once room frees up', async () => {
    const a100 = await fleet.addNode('a', '1xA100:81920');
    const h200 = await fleet.addNode('b', '2xH200:143771');
    const shared = await deploy('shared', { gpus: 1, gpuType: 'A100', gpuMemoryMiB: 20_480 }, 5);

    const d = await settled(shared, 4, /1 instance\(s\) pending: no ready node has 20480 MiB on one A100 GPU free/);
    expect(live(d)).toHaveLength(4);
    for (const i of live(d)) expect(i).toMatchObject({ nodeId: a100, gpus: [{ index: 0, type: 'A100', memoryMiB: 20_480 }] });
    // The instance process sees its device, and nothing of the H200 node.
    const { task } = await fleet.control.tasks.submit(fleet.tenantId, { functionId: shared.functionId, input: {} });
    const done = await fleet.control.tasks.waitForEnd(fleet.tenantId, task.id, 10_000);
    expect(outputValue(done)).toMatchObject({ devices: '0' });
    // The decision to run five is recorded once, not again on every pass that still cannot place the fifth.
    await new Promise((r) => setTimeout(r, 700));
    const later = await fleet.control.deployments.get(fleet.tenantId, shared.functionId, shared.versionId);
    expect(later.events.filter((e) => e.kind === 'scaling' && e.to === '5')).toHaveLength(1);

    // Whole-GPU requests take exclusive devices: two H200s for one instance, none left for another.
    // This one ignores SIGTERM, as a server busy freeing device memory might: it takes its whole
    // grace period (1 s) to stop.
    const stubborn = [process.execPath, '-e', `process.on('SIGTERM', () => {}); import(${JSON.stringify(join(FIXTURES, 'server.mjs'))})`];
    const whole = await deploy('whole', { gpus: 2, gpuType: 'H200' }, 1, stubborn);
    const w = await settled(whole, 1, null);
    expect(live(w)[0]).toMatchObject({ nodeId: h200, gpus: [{ index: 0, type: 'H200' }, { index: 1, type: 'H200' }] });
    const another = await deploy('another', { gpus: 1, gpuType: 'H200' }, 1);
    await settled(another, 0, /1 instance\(s\) pending: no ready node has 1 H200 GPU free \(2 such GPU\(s\) in the fleet\)/);
    const gpus = await fleet.store.fleet.listNodes();
    expect(gpus.map((n) => n.id).sort()).toEqual([a100, h200].sort());

    // Undeploying the whole-GPU version frees both devices, but only once its process is gone:
    // the waiting instance is placed right after, never while the old one may hold device memory.
    const undeployedAt = Date.now();
    await fleet.control.deployments.undeploy(fleet.tenantId, whole.functionId, whole.versionId, { graceful: false, running: 'requeue' });
    const placed = await settled(another, 1, null);
    expect(live(placed)[0]).toMatchObject({ nodeId: h200, gpus: [{ index: 0, type: 'H200' }] });
    const old = (await fleet.control.deployments.get(fleet.tenantId, whole.functionId, whole.versionId)).instances[0]!;
    expect(old).toMatchObject({ state: 'STOPPED', reason: 'drained' });
    expect(old.endedAt! - undeployedAt).toBeGreaterThanOrEqual(900);
    expect(live(placed)[0]!.createdAt).toBeGreaterThanOrEqual(old.endedAt!);

    // Scaling the shared version down to four clears its pending reason.
    await fleet.control.deployments.put(fleet.tenantId, shared.functionId, shared.versionId, { minInstances: 4, maxInstances: 4 });
    await settled(shared, 4, null);
  });

  it('refuses a type no node has, naming it, and a fractional request never shares a device held whole', async () => {
    await fleet.addNode('a', '1xL4:23034');
    const missing = await deploy('missing', { gpus: 1, gpuType: 'H100' }, 1);
    await settled(missing, 0, /no ready node has a H100 GPU/);

    const whole = await deploy('whole', { gpus: 1, gpuType: 'L4' }, 1);
    await settled(whole, 1, null);
    const small = await deploy('small', { gpus: 1, gpuType: 'L4', gpuMemoryMiB: 1_024 }, 1);
    await settled(small, 0, /no ready node has 1024 MiB on one L4 GPU free/);
  });

  it('spreads CPU-only instances over the nodes', async () => {
    const nodes = [await fleet.addNode('a', 'none'), await fleet.addNode('b', 'none')];
    const cpu = await deploy('cpu', { gpus: 0 }, 4);
    const d = await settled(cpu, 4, null);
    expect(live(d).map((i) => i.nodeId).sort()).toEqual([nodes[0], nodes[0], nodes[1], nodes[1]].sort());
  });
});
