import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalTask } from '../src/core/states.js';
import { uploadAsset } from '../src/sdk/asset-files.js';
import type { TaskInfo } from '../src/sdk/client.js';
import { FerryAgent } from './helpers/ferry-agent.js';
import { FerryServer, eventually, jobFunction } from './helpers/ferry-server.js';

/** A pure control plane (`--no-agent`) and `ferry agent` processes serving it over HTTP. */
describe('remote agents over HTTP', () => {
  const server = new FerryServer(['--no-agent'], { FERRY_NODE_LOST_MS: '1500' });
  const scratch = mkdtempSync(join(tmpdir(), 'ferry-remote-'));
  const agents: FerryAgent[] = [];
  let token = '';

  beforeAll(async () => {
    await server.start();
    const created = await server.cli('--output', 'json', 'nodes', 'token', 'create', '--name', 'gpu-box');
    expect(created.code).toBe(0);
    token = (JSON.parse(created.stdout) as { token: string }).token;
    for (let i = 0; i < 2; i++) agents.push(await new FerryAgent(() => [server.url], token, '2xH200:143771').start());
  });
  afterAll(async () => {
    for (const a of agents) await a.dispose();
    await server.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function call(path: string, key: string, body?: unknown): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
    const res = await fetch(server.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
  }

  it('keeps node tokens to the agent routes, and every other key out of them', async () => {
    expect((await call('/v1/functions', token)).status).toBe(403);
    expect((await call('/v1/agent/nodes/x/assignments', server.adminKey)).status).toBe(403);
    const bad = await call('/v1/agent/claim', token, { instanceId: 'ins_x', versionId: 'ver_x', limit: 0, running: 0, waitMs: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error!.message).toMatch(/limit/);
    const invokeKey = (await server.client.createKey('caller', 'invoke')).key;
    expect((await call('/v1/nodes/tokens', invokeKey, {})).status).toBe(403);
    const nodes = await server.cli('nodes');
    expect(nodes.stdout).toMatch(new RegExp(`${agents[0]!.nodeId}.*READY.*0:H200`));
  });

  it('runs tasks on the agents’ declared GPUs, with logs, progress and outputs over HTTP', async () => {
    const fn = await server.client.createFunction(jobFunction('gpu-work', {}, { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 2 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 3, maxInstances: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { sleepMs: 30, output: i, logLines: 2, progress: 50 } })).id);
    const done = await settled(ids, 30_000);
    expect(done.map((t) => t.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    done.forEach((t, i) => expect(t.output).toBe(i));
    expect(new Set(done.map((t) => t.nodeId))).toEqual(new Set(agents.map((a) => a.nodeId)));
    const logs = await server.cli('tasks', 'logs', ids[0]!);
    expect(logs.stdout).toContain('line 1');
    const instances = (await server.client.instances()).items.filter((i) => i.versionId === fn.version.id);
    expect(instances.map((i) => i.gpus.length)).toEqual([1, 1, 1]);
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('fetches input assets over HTTP from the control plane the agent talks to', async () => {
    const fn = await server.client.createFunction(jobFunction('remote-checksums', {}, { resources: { gpus: 1, gpuType: 'H200' } }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 1, maxInstances: 1 });
    const bytes = randomBytes(500_000);
    const asset = await uploadAsset(server.client, bytes);
    const task = await server.client.submit({ functionId: fn.id, input: { checksumInputs: true }, inputAssets: [asset.id] });
    const done = await server.client.wait(task.id, { timeoutMs: 20_000 });
    expect(done.output).toEqual({ assets: { [asset.id]: { sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } } });
    await server.client.undeploy(fn.id, fn.version.id);
  });

  it('replaces a killed agent’s and a frozen agent’s instances elsewhere, re-runs their tasks once their leases end, and rejects the frozen one’s late work', async () => {
    const [a, b] = agents as [FerryAgent, FerryAgent];
    const third = await new FerryAgent(() => [server.url], token, '2xH200:143771').start();
    agents.push(third);
    const fn = await server.client.createFunction(jobFunction('long-work', {}, { resources: { gpus: 1, gpuType: 'H200' }, concurrency: 1 }));
    await server.client.deploy(fn.id, fn.version.id, { minInstances: 4, maxInstances: 4 });
    await eventually(async () => ((await server.client.instances()).items.filter((i) => i.versionId === fn.version.id && i.state === 'IDLE').length === 4 ? true : undefined), 20_000, 'four idle instances');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await server.client.submit({ functionId: fn.id, input: { sleepMs: 1_500, output: i } })).id);
    const runningOn = async (nodeId: string): Promise<boolean> => (await Promise.all(ids.map((id) => server.client.getTask(id)))).some((t) => t.status === 'RUNNING' && t.nodeId === nodeId);
    await eventually(async () => ((await runningOn(a.nodeId)) && (await runningOn(b.nodeId)) ? true : undefined), 15_000, 'tasks running on both victims');

    await a.kill9();
    b.signal('SIGSTOP');
    const lost = await eventually(async () => {
      const nodes = (await server.client.nodes()).items;
      return [a, b].every((x) => nodes.find((n) => n.id === x.nodeId)?.state === 'LOST') ? nodes : undefined;
    }, 10_000, 'both victims declared LOST');
    expect(lost.find((n) => n.id === third.nodeId)!.state).toBe('READY');

    const done = await settled(ids, 40_000);
    expect(done.map((t) => t.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    done.forEach((t, i) => expect(t.output).toBe(i));
    const rerun = done.filter((t) => t.attempt > 1);
    expect(rerun.length).toBeGreaterThanOrEqual(2);
    for (const t of rerun) expect(t.nodeId).toBe(third.nodeId);

    // The frozen agent wakes up: told it was lost, it drops its stale work and joins again, empty.
    b.signal('SIGCONT');
    await eventually(async () => ((await server.client.nodes()).items.find((n) => n.id === b.nodeId)?.state === 'READY' ? true : undefined), 10_000, 'the frozen agent to rejoin');
    // The killed one comes back on its data directory as the same node.
    await a.start();
    await eventually(async () => ((await server.client.nodes()).items.find((n) => n.id === a.nodeId)?.state === 'READY' ? true : undefined), 10_000, 'the killed agent to rejoin');
    const again = await Promise.all(ids.map((id) => server.client.getTask(id)));
    expect(again.map((t) => [t.status, t.attempt, t.output])).toEqual(done.map((t) => [t.status, t.attempt, t.output]));
    await server.client.undeploy(fn.id, fn.version.id);
  });

  async function settled(ids: string[], ms: number): Promise<TaskInfo[]> {
    return eventually(async () => {
      const tasks = await Promise.all(ids.map((id) => server.client.getTask(id)));
      return tasks.every((t) => isTerminalTask(t.status)) ? tasks : undefined;
    }, ms, `${ids.length} tasks to end\n${server.log}\n${agents.map((x) => x.log).join('\n')}`);
  }
});
