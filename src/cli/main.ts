import { Command, CommanderError, Option } from 'commander';
import { FerryError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { EXIT, exitCodeOf } from './context.js';
import { agentCommand } from './agent-command.js';
import { assetsCommands } from './assets-commands.js';
import { triggersCommands } from './triggers-commands.js';
import { workflowsCommands } from './workflows-commands.js';
import { deployCommands } from './deploy-commands.js';
import { fleetCommands } from './fleet-commands.js';
import { functionsCommands } from './functions-commands.js';
import { invokeCommand } from './invoke-command.js';
import { serverCommand } from './server-command.js';
import { tasksCommands } from './tasks-commands.js';

const program = new Command('ferry')
  .version(VERSION)
  .description('Ferry: serverless asynchronous GPU work on your own machines')
  .option('--url <url>', 'server URL (env FERRY_URL; default http://127.0.0.1:7700)')
  .option('--token <key>', 'API key (env FERRY_TOKEN; default <data-dir>/admin.key)')
  .option('--data-dir <dir>', 'data directory (env FERRY_DATA_DIR; default .ferry)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .exitOverride()
  .showHelpAfterError();

serverCommand(program);
agentCommand(program);
functionsCommands(program);
deployCommands(program);
invokeCommand(program);
tasksCommands(program);
fleetCommands(program);
assetsCommands(program);
triggersCommands(program);
workflowsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  } else {
    const e = err instanceof FerryError ? err : null;
    process.stderr.write(`error: ${e ? `${e.message} (${e.code})` : (err as Error).message}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
