#!/usr/bin/env node
// The `ferry` command: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('ferry is not built: run `npm run build` (npm ci does it) first\n');
  process.exit(2);
}
await import(main);
