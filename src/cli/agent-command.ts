import type { Command } from 'commander';
import { parseAgentConfig } from '../config.js';
import { closeOnSignal, globals } from './context.js';

export function agentCommand(program: Command): void {
  program
    .command('agent')
    .description('run a node agent for a control plane on another machine (ferry agent --server URL --token T)')
    .option('--server <urls>', 'control-plane URL, or several replicas comma-separated (env FERRY_SERVER)')
    .option('--gpus <spec>', 'declared GPUs, e.g. 2xH200:143771 or none (default: nvidia-smi)')
    .option('--name <name>', 'node name (env FERRY_NODE_NAME; default: the host name)')
    .addHelpText('after', '\nThe node token comes from the global --token, or FERRY_NODE_TOKEN (then FERRY_TOKEN); the data directory (--data-dir) defaults to .ferry-agent.')
    .action(async (opts: { server?: string; gpus?: string; name?: string }, cmd: Command) => {
      const g = globals(cmd);
      // --token is the global option; the data directory defaults to .ferry-agent, so an agent and a
      // server on one machine never share a node id.
      const config = parseAgentConfig({ ...opts, token: g.token, dataDir: g.dataDir }, process.env);
      // Loaded here so client commands never load the agent and its runtimes.
      const [{ startRemoteAgent }, { jsonLogger }] = await Promise.all([import('../remote-agent.js'), import('./json-log.js')]);
      const agent = await startRemoteAgent(config, jsonLogger('agent', config.logLevel));
      const gpus = agent.gpus.length ? agent.gpus.map((d) => `${d.index}:${d.type}:${d.memoryMiB}MiB`).join(' ') : 'none';
      process.stdout.write(`Ferry agent ${agent.nodeId} (${config.nodeName}), GPUs: ${gpus}\nserving ${config.servers.join(', ')}\n`);
      closeOnSignal(() => agent.close());
    });
}
