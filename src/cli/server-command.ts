import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeStore, parseServerConfig } from '../config.js';
import { closeOnSignal, globals } from './context.js';

export function serverCommand(program: Command): void {
  program
    .command('server')
    .description('run the control plane, the API and (unless --no-agent) a local agent')
    .option('--port <port>', 'HTTP port (env FERRY_PORT; default 7700)')
    .option('--host <host>', 'address to listen on (env FERRY_HOST; default 127.0.0.1)')
    .option('--store <url>', 'sqlite:PATH (default: <data-dir>/ferry.db) or postgres://USER@HOST:PORT/DB for a fleet')
    .option('--blobs <spec>', 'where assets are kept: disk:PATH or s3://BUCKET/PREFIX?endpoint=URL&region=R (env FERRY_BLOBS; default disk:<data-dir>/blobs)')
    .option('--gpus <spec>', 'declared GPUs, e.g. 2xH200:143771 or none (default: nvidia-smi)')
    .option('--no-agent', 'run a pure control plane, without a local agent')
    .option('--examples', 'create and deploy the functions in examples/')
    .action(async (opts: { port?: string; host?: string; store?: string; blobs?: string; gpus?: string; agent: boolean; examples?: boolean }, cmd: Command) => {
      const config = parseServerConfig({ ...opts, dataDir: globals(cmd).dataDir }, process.env);
      // Loaded here so client commands never load the server, its store and its runtimes.
      const [{ startServer }, { jsonLogger }] = await Promise.all([import('../server.js'), import('./json-log.js')]);
      const server = await startServer(config, jsonLogger('server', config.logLevel));
      const example = server.examples.includes('python-model') ? 'python-model' : (server.examples[0] ?? 'NAME');
      const lines = [
        `Ferry ${server.url}  (store: ${describeStore(config.store)}${server.nodeId ? `, local agent ${server.nodeId}` : ', no local agent'})`,
        server.newAdminKey ? `Admin API key (shown once): ${server.newAdminKey}` : null,
        existsSync(server.adminKeyFile) ? `Admin key file: ${server.adminKeyFile}` : 'Admin key: not on this replica (the first one to start printed it and wrote it to its data directory)',
        `Dashboard: ${server.url}/  (sign in with the admin key)`,
        `API document: ${server.url}/openapi.json`,
        server.examples.length ? `Examples deployed: ${server.examples.join(', ')}` : null,
        `Try: curl -s -H "Authorization: Bearer $(cat ${server.adminKeyFile})" -H 'content-type: application/json' -d '{"prompt":"hello"}' ${server.url}/v1/functions/${example}/invoke`,
        `  or: npx ferry invoke ${example} --data '{"prompt":"hello"}'${config.dataDir === resolve('.ferry') ? '' : ` --data-dir ${config.dataDir}`}${server.url === 'http://127.0.0.1:7700' ? '' : ` --url ${server.url}`}`,
        `listening on ${server.url}`,
      ];
      process.stdout.write(`${lines.filter((l) => l !== null).join('\n')}\n`);
      closeOnSignal(() => server.close());
    });
}
