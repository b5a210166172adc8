import type { Command } from 'commander';
import { FerryError } from '../core/errors.js';
import { BROKER_ADDRESS_FIELD, type TriggerInput, type TriggerKind, isBrokerKind } from '../core/triggers.js';
import type { TriggerInfo } from '../sdk/client.js';
import { clientFor, intOption, print, readJsonFile } from './context.js';

const row = (t: TriggerInfo) => ({
  id: t.id,
  name: t.name,
  kind: t.kind,
  state: t.state,
  fired: t.fired,
  lastFired: t.lastFiredAt ?? '-',
  next: t.nextFires?.[0] ?? '-',
  lastError: t.lastError ?? '-',
});

interface CreateFlags {
  file?: string;
  function?: string;
  workflow?: string;
  version?: string;
  kind?: TriggerKind;
  schedule?: string;
  timezone?: string;
  catchUp?: boolean;
  brokerUrl?: string;
  from?: string;
  secret?: string;
  input?: string;
  priority?: number;
}

/** The trigger the flags describe, or the file's (the API body of POST /v1/triggers). */
function definition(name: string | undefined, o: CreateFlags): TriggerInput {
  if (o.file) return { ...readJsonFile<TriggerInput>(o.file), ...(name ? { name } : {}) };
  if (!name || (!o.function && !o.workflow) || !o.kind) throw new FerryError('INVALID_REQUEST', 'give a NAME with --function (or --workflow) and --kind, or -f FILE');
  const target = o.workflow ? { workflowId: o.workflow } : { functionId: o.function! };
  const input: TriggerInput = { name, ...target, kind: o.kind, ...(o.version ? { versionId: o.version } : {}) };
  if (o.schedule !== undefined) input.schedule = o.schedule;
  if (o.timezone !== undefined) input.timezone = o.timezone;
  if (o.catchUp) input.catchUp = true;
  if (o.secret !== undefined) input.secret = o.secret;
  if (o.brokerUrl !== undefined || o.from !== undefined) {
    if (!isBrokerKind(o.kind)) throw new FerryError('INVALID_REQUEST', `--broker-url and --from: only for the broker kinds (nats, redis, amqp, mqtt), not ${o.kind}`);
    input.source = { url: o.brokerUrl ?? '', [BROKER_ADDRESS_FIELD[o.kind]]: o.from };
  }
  if (o.input !== undefined || o.priority !== undefined) {
    let template: unknown;
    try {
      template = o.input === undefined ? undefined : JSON.parse(o.input);
    } catch {
      throw new FerryError('INVALID_REQUEST', '--input: not JSON');
    }
    input.task = { ...(template === undefined ? {} : { input: template }), ...(o.priority === undefined ? {} : { priority: o.priority }) };
  }
  return input;
}

export function triggersCommands(program: Command): void {
  const triggers = program.command('triggers').description('schedules, broker consumers, inbound webhooks and asset events that start tasks');
  triggers
    .command('create [name]')
    .description('create a trigger from flags, or from a JSON file (the API body of POST /v1/triggers)')
    .option('-f, --file <file>', 'the trigger as JSON, or - for stdin')
    .option('--function <id>', 'the function its tasks run (id or name)')
    .option('--workflow <id>', 'or: the workflow each event starts an execution of (id or name)')
    .option('--version <id>', 'one version of it (default: a deployed one)')
    .option('--kind <kind>', 'cron, nats, redis, amqp, mqtt, webhook or asset')
    .option('--schedule <cron>', 'cron: five fields, or six with seconds first')
    .option('--timezone <tz>', 'cron: an IANA time zone (default UTC)')
    .option('--catch-up', 'cron: run ticks missed while Ferry was down, once each')
    .option('--broker-url <url>', 'broker: where it is (nats://, redis://, amqp://, mqtt://)')
    .option('--from <name>', 'broker: the NATS subject, Redis stream, AMQP queue or MQTT topic to read')
    .option('--secret <whsec>', 'webhook: the signing secret (default: a new one, printed once)')
    .option('--input <json>', 'the task input template: keys ending in ".$" take a path of the event, e.g. {"url.$":"$.body.url"}')
    .option('--priority <n>', 'its tasks’ priority (-100..100)', intOption('--priority'))
    .action(async (name: string | undefined, o: CreateFlags, cmd: Command) => {
      const t = await clientFor(cmd).triggers.create(definition(name, o));
      print(cmd, t, [{ ...row(t), ...(t.hookPath ? { hook: t.hookPath, secret: t.secret } : {}) }]);
    });
  triggers
    .command('list')
    .action(async (_o, cmd: Command) => {
      const page = await clientFor(cmd).triggers.list({ limit: 500 });
      print(cmd, page, page.items.map(row));
    });
  triggers
    .command('get <trigger>')
    .description('a trigger with its state, last fire, last error and (cron) next fire times')
    .action(async (id: string, _o, cmd: Command) => {
      const t = await clientFor(cmd).triggers.get(id);
      print(cmd, t, [{ ...row(t), starts: t.workflowId ?? t.functionId, next: t.nextFires?.join(' ') ?? '-' }]);
    });
  triggers
    .command('update <trigger>')
    .description('change fields of a trigger from a JSON file (any of the create fields but kind)')
    .requiredOption('-f, --file <file>', 'the fields as JSON, or - for stdin')
    .action(async (id: string, o: { file: string }, cmd: Command) => {
      const t = await clientFor(cmd).triggers.update(id, readJsonFile(o.file));
      print(cmd, t, [row(t)]);
    });
  for (const action of ['pause', 'resume'] as const) {
    triggers
      .command(`${action} <trigger>`)
      .action(async (id: string, _o, cmd: Command) => {
        const t = await clientFor(cmd).triggers[action](id);
        print(cmd, t, [row(t)]);
      });
  }
  triggers
    .command('delete <trigger>')
    .description('delete a trigger (the tasks it made stay)')
    .action(async (id: string, _o, cmd: Command) => {
      await clientFor(cmd).triggers.delete(id);
      print(cmd, { id, deleted: true }, [{ id, deleted: true }]);
    });
  triggers
    .command('tasks <trigger>')
    .description('the tasks a trigger made, newest first, each with its event')
    .option('--limit <n>', 'how many', intOption('--limit'), 50)
    .action(async (id: string, o: { limit: number }, cmd: Command) => {
      const page = await clientFor(cmd).triggers.tasks(id, { limit: o.limit });
      print(cmd, page, page.items.map((f) => ({ event: f.eventKey, started: f.executionId ?? f.taskId, at: f.at })));
    });
}
