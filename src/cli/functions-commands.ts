import type { Command } from 'commander';
import type { CreateFunctionRequest } from '../sdk/client.js';
import { clientFor, print, readJsonFile } from './context.js';

export function functionsCommands(program: Command): void {
  const fns = program.command('functions').description('create, list, inspect and delete functions');
  fns
    .command('create')
    .description('create a function with its first version from a JSON file (the API body of POST /v1/functions)')
    .requiredOption('-f, --file <file>', 'function definition, or - for stdin')
    .action(async (opts: { file: string }, cmd: Command) => {
      const fn = await clientFor(cmd).createFunction(readJsonFile<CreateFunctionRequest>(opts.file));
      print(cmd, fn, [{ id: fn.id, name: fn.name, version: fn.version.id, number: fn.version.number }]);
    });
  fns
    .command('list')
    .action(async (_o, cmd: Command) => {
      const page = await clientFor(cmd).listFunctions({ limit: 500 });
      print(cmd, page, page.items.map((f) => ({ id: f.id, name: f.name, tags: f.tags.join(','), created: f.createdAt })));
    });
  fns
    .command('get <function>')
    .action(async (fn: string, _o, cmd: Command) => {
      const client = clientFor(cmd);
      const info = await client.getFunction(fn);
      const versions = await client.listVersions(fn, { limit: 500 });
      print(cmd, { ...info, versions: versions.items }, versions.items.map((v) => ({ function: info.name, version: v.id, number: v.number, mode: v.mode, runtime: v.runtime.type, gpus: v.resources.gpus })));
    });
  fns
    .command('delete <function>')
    .action(async (fn: string, _o, cmd: Command) => {
      await clientFor(cmd).deleteFunction(fn);
      print(cmd, { deleted: fn }, [{ deleted: fn }]);
    });

  const versions = program.command('versions').description('add, list, inspect and delete versions');
  versions
    .command('create <function>')
    .description('add a version from a JSON file (a version spec)')
    .requiredOption('-f, --file <file>', 'version spec, or - for stdin')
    .action(async (fn: string, opts: { file: string }, cmd: Command) => {
      const v = await clientFor(cmd).addVersion(fn, readJsonFile(opts.file));
      print(cmd, v, [{ id: v.id, number: v.number, mode: v.mode }]);
    });
  versions
    .command('list <function>')
    .action(async (fn: string, _o, cmd: Command) => {
      const page = await clientFor(cmd).listVersions(fn, { limit: 500 });
      print(cmd, page, page.items.map((v) => ({ id: v.id, number: v.number, mode: v.mode, runtime: v.runtime.type, created: v.createdAt })));
    });
  versions
    .command('get <function> <version>')
    .action(async (fn: string, version: string, _o, cmd: Command) => print(cmd, await clientFor(cmd).getVersion(fn, version)));
  versions
    .command('delete <function> <version>')
    .action(async (fn: string, version: string, _o, cmd: Command) => {
      await clientFor(cmd).deleteVersion(fn, version);
      print(cmd, { deleted: version }, [{ deleted: version }]);
    });
}
