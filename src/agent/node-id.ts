import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A node keeps its id across restarts (in its data directory), so a restart is recognised as the same node. */
export async function localNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'node-id');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const id = `node_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await writeFile(file, `${id}\n`);
  return id;
}
