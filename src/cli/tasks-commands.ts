import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { isTerminalTask } from '../core/states.js';
import type { LogLine, TaskInfo } from '../sdk/client.js';
import { EXIT, clientFor, globals, intOption, print } from './context.js';
import { progressDisplay } from './task-progress.js';

const row = (t: TaskInfo) => ({ id: t.id, status: t.status, progress: t.progress, position: t.position, attempt: t.attempt, created: t.createdAt, finished: t.finishedAt });

export function tasksCommands(program: Command): void {
  const tasks = program.command('tasks').description('list, inspect, cancel, follow and wait for tasks');
  tasks
    .command('list')
    .option('--function <id>', 'only this function (id or name)')
    .option('--version <id>', 'only this version')
    .option('--status <list>', 'comma-separated statuses, e.g. QUEUED,RUNNING')
    .option('--limit <n>', 'how many', intOption('--limit'), 50)
    .action(async (o: { function?: string; version?: string; status?: string; limit: number }, cmd: Command) => {
      const client = clientFor(cmd);
      const functionId = o.function ? (await client.getFunction(o.function)).id : undefined;
      const page = await client.listTasks({ functionId, versionId: o.version, status: o.status, limit: o.limit });
      print(cmd, page, page.items.map(row));
    });
  tasks
    .command('get <task>')
    .action(async (id: string, _o, cmd: Command) => {
      const t = await clientFor(cmd).getTask(id);
      print(cmd, t, [{ ...row(t), error: t.error?.message ?? null }]);
    });
  tasks
    .command('output <task>')
    .description('write a succeeded task’s output as the function gave it (bytes, any type) to a file, or to stdout')
    .option('--out <file>', 'where to write it (default: stdout)')
    .action(async (id: string, o: { out?: string }, cmd: Command) => {
      const res = await clientFor(cmd).taskOutputResponse(id);
      await pipeline(Readable.fromWeb(res.body! as WebReadableStream), o.out ? createWriteStream(o.out) : process.stdout);
    });
  tasks
    .command('cancel <task>')
    .action(async (id: string, _o, cmd: Command) => {
      const t = await clientFor(cmd).cancelTask(id);
      print(cmd, t, [row(t)]);
    });
  tasks
    .command('logs <task>')
    .option('-f, --follow', 'keep printing new lines until the task ends')
    .action(async (id: string, o: { follow?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const json = globals(cmd).output === 'json';
      const write = (l: LogLine): void => void process.stdout.write(json ? `${JSON.stringify(l)}\n` : `${l.stream === 'stdout' ? '' : `[${l.stream}] `}${l.text}\n`);
      if (o.follow) {
        for await (const line of client.followLogs(id)) write(line);
        return;
      }
      for (let after = 0; ; ) {
        const page = await client.taskLogs(id, after);
        page.lines.forEach(write);
        if (page.lines.length === 0) return;
        after = page.next;
      }
    });
  tasks
    .command('wait <task>')
    .description('wait for a task to end; exit 0 when it succeeded, 1 when it did not, 124 on --timeout')
    .option('--timeout <seconds>', 'stop waiting after this long', intOption('--timeout'))
    .action(async (id: string, o: { timeout?: number }, cmd: Command) => {
      const display = progressDisplay(globals(cmd).output !== 'json');
      const t = await clientFor(cmd).wait(id, { timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000, onUpdate: (x) => display.update(x) });
      display.stop();
      print(cmd, t, [{ ...row(t), error: t.error?.message ?? null }]);
      if (!isTerminalTask(t.status)) process.exitCode = EXIT.waitTimedOut;
      else if (t.status !== 'SUCCEEDED') process.exitCode = EXIT.taskUnsuccessful;
    });
}
