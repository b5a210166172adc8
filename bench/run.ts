// `npm run bench -- [--quick] [dispatch|scale|scaling]`: runs the benchmarks (all unless some are named;
// see bench/README.md).
import { main as dispatch } from './dispatch.js';
import { main as scale } from './scale.js';
import { main as scaling } from './scaling.js';

const BENCHMARKS: Record<string, (argv: readonly string[]) => Promise<void>> = { dispatch, scale, scaling };

const argv = process.argv.slice(2);
const named = argv.filter((a) => !a.startsWith('--'));
for (const name of named) if (!(name in BENCHMARKS)) throw new Error(`unknown benchmark "${name}": choose from ${Object.keys(BENCHMARKS).join(', ')}`);
for (const [name, run] of Object.entries(BENCHMARKS)) if (named.length === 0 || named.includes(name)) await run(argv);
