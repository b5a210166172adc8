import type { Command } from 'commander';
import { SCOPES, type Scope } from '../core/states.js';
import { FerryError } from '../core/errors.js';
import { clientFor, globals, intOption, print } from './context.js';

export function fleetCommands(program: Command): void {
  program
    .command('queue <function>')
    .description('queued and running tasks and live instances of a function (or one version)')
    .option('--version <id>', 'one version')
    .action(async (fn: string, o: { version?: string }, cmd: Command) => {
      const q = await clientFor(cmd).queue(fn, o.version);
      const instances = Object.entries(q.instances).map(([state, n]) => `${n} ${state}`).join(', ') || 'none';
      print(cmd, q, [{ function: q.functionId, version: q.versionId ?? '(all)', queued: q.queued, running: q.running, instances, ...q.byStatus }]);
    });
  program.command('gpus').description('GPU types with total and free counts').action(async (_o, cmd: Command) => {
    const g = await clientFor(cmd).gpus();
    print(cmd, g, g.items.map((t) => ({ ...t })));
  });
  const nodes = program.command('nodes').description('nodes and their GPUs; `nodes token create` for a new agent');
  nodes.action(async (_o, cmd: Command) => {
    const n = await clientFor(cmd).nodes();
    print(cmd, n, n.items.map((x) => ({ id: x.id, name: x.name, state: x.state, gpus: x.gpus.map((g) => `${g.index}:${g.type}:${g.allocated}`).join(' ') || '-', lastSeen: x.lastSeenAt })));
  });
  nodes
    .command('token')
    .description('node tokens, for `ferry agent --token`')
    .command('create')
    .description('create a node token (system tenant admins only); it is shown once')
    .option('--name <name>', 'a name to tell tokens apart', 'node')
    .action(async (o: { name: string }, cmd: Command) => {
      const { token } = await clientFor(cmd).createNodeToken(o.name);
      if (globals(cmd).output === 'json') print(cmd, { token });
      else process.stdout.write(`${token}\n`);
    });
  program
    .command('instances')
    .description('your instances')
    .option('--all', 'include stopped and failed ones')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const i = await clientFor(cmd).instances({ all: o.all });
      print(cmd, i, i.items.map((x) => ({ id: x.id, version: x.versionId, node: x.nodeId, state: x.state, tasks: x.activeTasks, gpus: x.gpus.map((g) => g.index).join(',') || '-', reason: x.reason })));
    });
  const keys = program.command('keys').description('API keys');
  keys
    .command('create <name>')
    .option('--scope <scope>', `one of ${SCOPES.join(', ')}`, 'invoke')
    .option('--ttl <seconds>', 'it expires this long after its creation (default: never)', intOption('--ttl'))
    .action(async (name: string, o: { scope: string; ttl?: number }, cmd: Command) => {
      if (!(SCOPES as readonly string[]).includes(o.scope)) throw new FerryError('INVALID_REQUEST', `--scope: must be one of ${SCOPES.join(', ')}`);
      const k = await clientFor(cmd).createKey(name, o.scope as Scope, o.ttl === undefined ? {} : { ttlSeconds: o.ttl });
      print(cmd, k, [{ id: k.id, scope: k.scope, key: k.key, expires: k.expiresAt ?? '-' }]);
    });
  keys
    .command('list')
    .description("the tenant's keys and node tokens (never their secrets)")
    .action(async (_o, cmd: Command) => {
      const all = await clientFor(cmd).listKeys();
      print(cmd, all, all.map((k) => ({ id: k.id, prefix: k.prefix ?? '-', name: k.name, scope: k.scope, created: k.createdAt, lastUsed: k.lastUsedAt ?? '-', expires: k.expiresAt ?? '-', revoked: k.revokedAt ?? '-' })));
    });
  keys
    .command('revoke <keyId>')
    .description('revoke a key: every replica refuses it within a second')
    .action(async (id: string, _o, cmd: Command) => {
      await clientFor(cmd).revokeKey(id);
      print(cmd, { id, revoked: true }, [{ id, revoked: true }]);
    });
  program
    .command('audit')
    .description("the tenant's changes, newest first: who (key), when, what, from where")
    .option('--action <route>', 'one route, as entries name it: "DELETE /v1/functions/:functionId"')
    .option('--key <keyId>', 'made with one key')
    .option('--since <time>', 'from this ISO 8601 time')
    .option('--limit <n>', 'how many', intOption('--limit'), 50)
    .action(async (o: { action?: string; key?: string; since?: string; limit: number }, cmd: Command) => {
      const page = await clientFor(cmd).audit({ ...(o.action ? { action: o.action } : {}), ...(o.key ? { keyId: o.key } : {}), ...(o.since ? { since: o.since } : {}), limit: o.limit });
      print(cmd, page, page.items.map((e) => ({ at: e.at, key: e.keyId ?? '-', action: e.action, resource: Object.values(e.resource).join(' ') || '-', from: e.source, status: e.status })));
    });
  const tenants = program.command('tenants').description('tenants (system admins)');
  tenants
    .command('create <name>')
    .description('create a tenant and print its first admin key')
    .action(async (name: string, _o, cmd: Command) => {
      const t = await clientFor(cmd).createTenant(name);
      print(cmd, t, [{ id: t.id, name: t.name, adminKey: t.adminKey.key }]);
    });
  tenants
    .command('quotas <tenantId>')
    .description("set a tenant's rates, per replica (none given: no limit)")
    .option('--requests-per-second <n>', 'calls of its keys', intOption('--requests-per-second'))
    .option('--submits-per-second <n>', 'tasks submitted (each of a batch), invokes and executions started', intOption('--submits-per-second'))
    .action(async (id: string, o: { requestsPerSecond?: number; submitsPerSecond?: number }, cmd: Command) => {
      const q = await clientFor(cmd).setQuotas(id, { ...(o.requestsPerSecond ? { requestsPerSecond: o.requestsPerSecond } : {}), ...(o.submitsPerSecond ? { submitsPerSecond: o.submitsPerSecond } : {}) });
      print(cmd, q, [{ tenant: q.tenantId, ...q.quotas }]);
    });
  program
    .command('quotas')
    .description("your tenant's rates")
    .action(async (_o, cmd: Command) => {
      const q = await clientFor(cmd).quotas();
      print(cmd, q, [{ tenant: q.tenantId, requestsPerSecond: q.quotas.requestsPerSecond ?? '-', submitsPerSecond: q.quotas.submitsPerSecond ?? '-' }]);
    });
}
