import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Prints a benchmark's report and writes it to bench/results/<name>-<date>.md; returns the file. */
export async function publish(name: string, startedAt: Date, report: string): Promise<string> {
  process.stdout.write(`\n${report}\n`);
  const file = join(RESULTS, `${name}-${startedAt.toISOString().slice(0, 10)}.md`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${report}\n`);
  process.stderr.write(`[bench] written to ${relative(process.cwd(), file)}\n`);
  return file;
}
