// `npm run bench -- [--quick] [--no-peers] [--depth N] [dispatch|throughput|batch|costs|assets|scale|scaling|runtimes|streams|workflows|connections]`: runs
// the benchmarks, all unless some are named (see bench/README.md).
import { main as assets } from './assets.js';
import { main as batch } from './batch.js';
import { main as connections } from './connections.js';
import { main as costs } from './costs.js';
import { main as dispatch } from './dispatch.js';
import { main as runtimes } from './runtimes.js';
import { main as scale } from './scale.js';
import { main as scaling } from './scaling.js';
import { main as streams } from './streams.js';
import { main as throughput } from './throughput.js';
import { main as workflows } from './workflows.js';

const BENCHMARKS: Record<string, (argv: readonly string[]) => Promise<void>> = { dispatch, throughput, batch, costs, assets, scale, scaling, runtimes, streams, workflows, connections };

const argv = process.argv.slice(2);
const named = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--depth');
for (const name of named) if (!(name in BENCHMARKS)) throw new Error(`unknown benchmark "${name}": choose from ${Object.keys(BENCHMARKS).join(', ')}`);
for (const [name, run] of Object.entries(BENCHMARKS)) if (named.length === 0 || named.includes(name)) await run(argv);
