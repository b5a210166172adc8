import type { Command } from 'commander';
import type { DeploymentInfo, FerryClient } from '../sdk/client.js';
import { clientFor, globals, intOption, print } from './context.js';

async function versionOf(client: FerryClient, fn: string, version: string | undefined): Promise<string> {
  return version ?? (await client.latestVersion(fn)).id;
}

/** The deployment and its instances; with `events`, also its last that many events. */
function show(cmd: Command, d: DeploymentInfo, events = 0): void {
  print(cmd, d, [
    { versionId: d.versionId, state: d.state, reason: d.reason, min: d.minInstances, max: d.maxInstances, target: d.targetPerInstance, instances: d.instances.filter((i) => i.state !== 'STOPPED' && i.state !== 'FAILED').length },
    ...d.instances.map((i) => ({ versionId: `  ${i.id}`, state: i.state, reason: i.reason, min: '', max: '', target: `node ${i.nodeId}`, instances: i.gpus.map((g) => g.index).join(',') || '-' })),
  ]);
  if (events === 0 || globals(cmd).output === 'json') return;
  process.stdout.write('\n');
  print(cmd, d.events, d.events.slice(-events).map((e) => ({ at: e.at, kind: e.kind, subject: e.subject, from: e.from, to: e.to, reason: e.reason })));
}

export function deployCommands(program: Command): void {
  const deploy = program
    .command('deploy <function>')
    .description('deploy a version (the latest unless --version) or update its scaling')
    .option('--version <id>', 'version id')
    .option('--min <n>', 'minInstances', intOption('--min'))
    .option('--max <n>', 'maxInstances', intOption('--max'))
    .option('--target <n>', 'targetPerInstance: queued+running tasks per instance', intOption('--target'))
    .option('--scale-down-delay <s>', 'scaleDownDelaySeconds', intOption('--scale-down-delay'))
    .option('--scale-to-zero-after <s>', 'scaleToZeroAfterSeconds', intOption('--scale-to-zero-after'))
    .action(async (fn: string, o: { version?: string; min?: number; max?: number; target?: number; scaleDownDelay?: number; scaleToZeroAfter?: number }, cmd: Command) => {
      const client = clientFor(cmd);
      const d = await client.deploy(fn, await versionOf(client, fn, o.version), {
        minInstances: o.min,
        maxInstances: o.max,
        targetPerInstance: o.target,
        scaleDownDelaySeconds: o.scaleDownDelay,
        scaleToZeroAfterSeconds: o.scaleToZeroAfter,
      });
      show(cmd, d);
    });
  deploy
    .command('status <function>')
    .description('a deployment with its instances and its latest scaling and instance events')
    .option('--version <id>', 'version id')
    .option('--events <n>', 'how many events to show (at most 50)', intOption('--events'), 10)
    .action(async (fn: string, o: { version?: string; events: number }, cmd: Command) => {
      const client = clientFor(cmd);
      show(cmd, await client.getDeployment(fn, await versionOf(client, fn, o.version)), o.events);
    });
  program
    .command('undeploy <function>')
    .description('undeploy a version (the latest unless --version)')
    .option('--version <id>', 'version id')
    .option('--graceful', 'drain: running tasks finish first')
    .option('--cancel-running', 'without --graceful: cancel running tasks instead of re-queueing them')
    .action(async (fn: string, o: { version?: string; graceful?: boolean; cancelRunning?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      show(cmd, await client.undeploy(fn, await versionOf(client, fn, o.version), { graceful: o.graceful ?? false, running: o.cancelRunning ? 'cancel' : 'requeue' }));
    });
}
