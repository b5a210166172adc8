import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { FerryError } from '../core/errors.js';
import type { StateMachine } from '../core/workflows/definition.js';
import type { ExecutionInfo, ExecutionStatus, FerryClient, WorkflowInfo } from '../sdk/client.js';
import { EXIT, clientFor, globals, intOption, print, readInput, readJsonFile } from './context.js';

/** How often `workflows run` reads its execution again while following it. */
const FOLLOW_MS = 500;

const workflowRow = (w: WorkflowInfo) => ({ id: w.id, name: w.name, version: w.latestVersion, updated: w.updatedAt });
const executionRow = (e: ExecutionInfo) => ({
  id: e.id,
  status: e.status,
  steps: e.stepsDone,
  now: e.currentSteps.map((s) => s.state).join(',') || '-',
  started: e.createdAt,
  ended: e.endedAt ?? '-',
  error: e.error ? `${e.error.Error}: ${e.error.Cause}` : '-',
});

/** A file holding a definition (`StartAt`, `States`) or a whole create body (`name`, `definition`). */
function workflowFile(file: string): { name?: string; description?: string; definition: StateMachine } {
  const doc = readJsonFile<Record<string, unknown>>(file);
  if (typeof doc !== 'object' || doc === null) throw new FerryError('INVALID_REQUEST', `${file}: not a JSON object`);
  return 'StartAt' in doc ? { definition: doc as unknown as StateMachine } : (doc as { name?: string; definition: StateMachine });
}

export function workflowsCommands(program: Command): void {
  const workflows = program.command('workflows').description('workflows of tasks (Amazon States Language): sequence, choice, parallel, map, wait, retry, catch');
  workflows
    .command('create [name]')
    .description('create a workflow from a JSON file: its definition, or {name, definition}')
    .requiredOption('-f, --file <file>', 'the definition as JSON, or - for stdin')
    .option('--description <text>', 'what it does')
    .action(async (name: string | undefined, o: { file: string; description?: string }, cmd: Command) => {
      const body = workflowFile(o.file);
      const wfName = name ?? body.name;
      if (!wfName) throw new FerryError('INVALID_REQUEST', 'give a NAME, or a file with "name"');
      const w = await clientFor(cmd).workflows.create({ name: wfName, definition: body.definition, ...((o.description ?? body.description) ? { description: o.description ?? body.description } : {}) });
      print(cmd, w, [workflowRow(w)]);
    });
  workflows
    .command('update <workflow>')
    .description('add a version from a JSON file: new executions run it, running ones keep theirs')
    .requiredOption('-f, --file <file>', 'the definition as JSON, or - for stdin')
    .action(async (id: string, o: { file: string }, cmd: Command) => {
      const w = await clientFor(cmd).workflows.addVersion(id, workflowFile(o.file).definition);
      print(cmd, w, [workflowRow(w)]);
    });
  workflows.command('list').action(async (_o, cmd: Command) => {
    const page = await clientFor(cmd).workflows.list({ limit: 500 });
    print(cmd, page, page.items.map(workflowRow));
  });
  workflows
    .command('get <workflow>')
    .description('a workflow with its newest definition (-o json shows it whole)')
    .action(async (id: string, _o, cmd: Command) => {
      const w = await clientFor(cmd).workflows.get(id);
      print(cmd, w, [{ ...workflowRow(w), states: Object.keys(w.version?.definition.States ?? {}).join(','), startAt: w.version?.definition.StartAt }]);
    });
  workflows
    .command('delete <workflow>')
    .description('delete a workflow with its versions and ended executions (their tasks stay)')
    .action(async (id: string, _o, cmd: Command) => {
      await clientFor(cmd).workflows.delete(id);
      print(cmd, { id, deleted: true }, [{ id, deleted: true }]);
    });
  workflows
    .command('run <workflow>')
    .description('start an execution and follow it to its end (a progress bar of finished steps), printing its output')
    .option('-d, --data <json>', 'the input as JSON')
    .option('-f, --file <file>', 'read the input from a file (- for stdin)')
    .option('--version <id>', 'run one version (default: the newest)')
    .option('--idempotency-key <key>', 'a retry with the same key returns the same execution')
    .option('--timeout <seconds>', 'the execution’s own limit', intOption('--timeout'))
    .option('--async', 'print the execution id at once')
    .action(async (id: string, o: { data?: string; file?: string; version?: string; idempotencyKey?: string; timeout?: number; async?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const input = await readInput(o.data, o.file);
      const started = await client.workflows.run(id, {
        input,
        ...(o.version ? { versionId: o.version } : {}),
        ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
        ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
      });
      if (o.async) return print(cmd, started, [executionRow(started)]);
      const e = await follow(client, started, globals(cmd).output !== 'json');
      if (e.status === 'SUCCEEDED') return print(cmd, e.output);
      print(cmd, e, [executionRow(e)]);
      process.exitCode = EXIT.taskUnsuccessful;
    });

  const executions = program.command('executions').description('executions of workflows: their status, history, tasks; cancel');
  executions
    .command('list')
    .option('--workflow <workflow>', 'of one workflow (id or name)')
    .option('--status <statuses>', 'comma-separated: RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT')
    .option('--limit <n>', 'how many', intOption('--limit'), 50)
    .action(async (o: { workflow?: string; status?: string; limit: number }, cmd: Command) => {
      const page = await clientFor(cmd).workflows.executions({ ...(o.workflow ? { workflow: o.workflow } : {}), ...(o.status ? { status: o.status.split(',') as ExecutionStatus[] } : {}), limit: o.limit });
      print(cmd, page, page.items.map(executionRow));
    });
  executions.command('get <execution>').action(async (id: string, _o, cmd: Command) => {
    const e = await clientFor(cmd).workflows.execution(id);
    print(cmd, e, [executionRow(e)]);
  });
  executions
    .command('history <execution>')
    .description('every step entered and left, the tasks started and their attempts, in order')
    .action(async (id: string, _o, cmd: Command) => {
      const client = clientFor(cmd);
      const items = [];
      for (let after = 0; ; ) {
        const page = await client.workflows.history(id, { after });
        items.push(...page.items);
        if (page.nextAfter === null) break;
        after = page.nextAfter;
      }
      print(cmd, items, items.map((h) => ({ seq: h.seq, at: h.at, type: h.type, state: h.state ?? '-', key: h.key ?? '-', task: h.taskId ?? '-' })));
    });
  executions
    .command('tasks <execution>')
    .description('the tasks an execution started, in order, each under its step, with its status and attempts')
    .option('--state <name>', 'only those of the states of this name')
    .option('--limit <n>', 'how many', intOption('--limit'), 500)
    .action(async (id: string, o: { state?: string; limit: number }, cmd: Command) => {
      const page = await clientFor(cmd).workflows.tasks(id, { ...(o.state ? { state: o.state } : {}), limit: o.limit });
      print(cmd, page, page.items.map((t) => ({ key: t.key, task: t.taskId, status: t.status, attempt: t.attempt, error: t.error?.code ?? '-' })));
    });
  executions
    .command('cancel <execution>')
    .description('cancel a running execution and the tasks it waits for')
    .action(async (id: string, _o, cmd: Command) => {
      const e = await clientFor(cmd).workflows.cancel(id);
      print(cmd, e, [executionRow(e)]);
    });
}

/**
 * Reads the execution until it ends; on a terminal, a bar of finished steps out of those finished
 * and running (the total grows as a Map or Parallel fans out), with the states it is in.
 */
async function follow(client: FerryClient, started: ExecutionInfo, show: boolean): Promise<ExecutionInfo> {
  const bar = show && process.stderr.isTTY ? new SingleBar({ format: '{status} |{bar}| {value}/{total} steps {now}', stream: process.stderr, hideCursor: true, clearOnComplete: false }) : null;
  const draw = (e: ExecutionInfo): void => {
    const fields = { status: e.status.padEnd(9), now: [...new Set(e.currentSteps.map((s) => s.state))].join(', ') };
    bar?.setTotal(Math.max(1, e.stepsDone + e.currentSteps.length));
    bar?.update(e.stepsDone, fields);
  };
  bar?.start(Math.max(1, started.stepsDone + started.currentSteps.length), started.stepsDone, { status: started.status.padEnd(9), now: '' });
  let e = started;
  try {
    while (e.status === 'RUNNING') {
      draw(e);
      await sleep(FOLLOW_MS);
      e = await client.workflows.execution(e.id);
    }
    draw(e);
  } finally {
    bar?.stop();
  }
  return e;
}
