// `npm run bench -- [--quick]`: runs the dispatch benchmark (see bench/README.md).
import { main } from './dispatch.js';

await main(process.argv.slice(2));
