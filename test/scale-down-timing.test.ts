import { afterEach, describe, expect, it } from 'vitest';
import { InProcessFleet } from './helpers/in-process-fleet.js';
import { eventually, serverFunction } from './helpers/ferry-server.js';

describe('scale-down timing', () => {
  let fleet: InProcessFleet;
  afterEach(async () => {
    await fleet.dispose();
    expect(fleet.errors).toEqual([]);
  });

  it('scales to zero when the window ends, not on the next fallback pass', async () => {
    // The fallback pass is a minute away: only the window's own timer can stop the instance in time.
    fleet = await new InProcessFleet({ reconcileIntervalMs: 60_000 }).start();
    await fleet.addNode('a', 'none');
    const { tenantId, control } = fleet;
    const { function: fn, version } = await control.functions.create(tenantId, serverFunction('window'));
    await control.deployments.put(tenantId, fn.id, version.id, { minInstances: 0, maxInstances: 1, scaleDownDelaySeconds: 0, scaleToZeroAfterSeconds: 1 });
    const { task } = await control.tasks.submit(tenantId, { functionId: fn.id, input: {} });
    const done = await control.tasks.waitForEnd(tenantId, task.id, 10_000);
    expect(done.status).toBe('SUCCEEDED');
    const d = await eventually(async () => {
      const view = await control.deployments.get(tenantId, fn.id, version.id);
      return view.instances.every((i) => i.state === 'STOPPED') ? view : undefined;
    }, 5_000, 'scale to zero');
    const draining = d.events.find((e) => e.kind === 'instance' && e.to === 'DRAINING')!;
    // The window is one second from the end of the work; the drain follows it closely.
    expect(draining.at - done.finishedAt!).toBeGreaterThanOrEqual(1_000);
    expect(draining.at - done.finishedAt!).toBeLessThan(2_000);
  });
});
