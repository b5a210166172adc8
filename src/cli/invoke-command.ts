import { basename } from 'node:path';
import type { Command } from 'commander';
import { uploadAsset } from '../sdk/asset-files.js';
import { byteProgress } from './assets-commands.js';
import { isTerminalTask } from '../core/states.js';
import { submitBatchFile } from './batch-submit.js';
import { EXIT, clientFor, globals, intOption, print, readInput } from './context.js';
import { progressDisplay } from './task-progress.js';

export function invokeCommand(program: Command): void {
  program
    .command('invoke <function>')
    .description('send a task and print its output (or, with --async, its id)')
    .option('-d, --data <json>', 'the input as JSON (or text)')
    .option('-f, --file <file>', 'read the input from a file (- for stdin); stdin is read when neither is given')
    .option('--batch <file.jsonl>', 'submit one task per line of the file (each line its input as JSON), 1,000 per request; prints each line\'s task id')
    .option('--version <id>', 'invoke one version')
    .option('--async', 'return the task id at once')
    .option('--wait <seconds>', 'give up waiting after this many seconds (the task goes on)', intOption('--wait'))
    .option('--priority <n>', 'higher runs first (-100..100)', intOption('--priority'))
    .option('--idempotency-key <key>', 'a retry with the same key returns the same task')
    .option('--input-asset <file>', 'upload a file as an asset and give it to the task (in its input-assets directory); may be repeated', (f: string, all: string[]) => [...all, f], [] as string[])
    .action(async (fn: string, o: { data?: string; file?: string; batch?: string; version?: string; async?: boolean; wait?: number; priority?: number; idempotencyKey?: string; inputAsset: string[] }, cmd: Command) => {
      const client = clientFor(cmd);
      if (o.batch !== undefined) {
        const lines = await submitBatchFile(client, fn, o.batch, { versionId: o.version, priority: o.priority, idempotencyKey: o.idempotencyKey }, globals(cmd).output !== 'json');
        print(cmd, lines, lines.map((l) => ('error' in l ? { line: l.line, taskId: null, status: null, error: `${l.error.code}: ${l.error.message}` } : { line: l.line, taskId: l.taskId, status: l.status, error: null })));
        if (lines.some((l) => 'error' in l)) process.exitCode = EXIT.invalid;
        return;
      }
      const input = await readInput(o.data, o.file);
      const inputAssets: string[] = [];
      for (const file of o.inputAsset) {
        const bar = byteProgress(cmd, `uploading ${basename(file)}`);
        try {
          inputAssets.push((await uploadAsset(client, file, { onProgress: bar.onProgress })).id);
        } finally {
          bar.stop();
        }
      }
      const first = await client.invoke(fn, input, { versionId: o.version, async: o.async, waitSeconds: 5, priority: o.priority, idempotencyKey: o.idempotencyKey, inputAssets });
      if (first.done) return print(cmd, first.output);
      if (o.async) return print(cmd, first.task, [{ taskId: first.taskId, status: first.task.status, position: first.task.position }]);
      const display = progressDisplay(globals(cmd).output !== 'json');
      const task = await client.wait(first.taskId, { timeoutMs: o.wait === undefined ? undefined : o.wait * 1000, onUpdate: (t) => display.update(t) });
      display.stop();
      if (!isTerminalTask(task.status)) {
        print(cmd, task, [{ taskId: task.id, status: task.status, note: 'still running; see ferry tasks wait' }]);
        process.exitCode = EXIT.waitTimedOut;
      } else if (task.status === 'SUCCEEDED') {
        print(cmd, task.output);
      } else {
        print(cmd, task, [{ taskId: task.id, status: task.status, error: task.error?.message }]);
        process.exitCode = EXIT.taskUnsuccessful;
      }
    });
}
