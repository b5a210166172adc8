import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_STORE_URL } from './bench-store.js';
import { describeMachine } from './machine.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Report {
  /** Names the file: bench/results/<name>-<date>.md (<name>-postgres-<date>.md on PostgreSQL). */
  name: string;
  title: string;
  startedAt: Date;
  quick: boolean;
  /** False for a benchmark that runs no Ferry server, whose title then names no store. */
  store?: boolean;
  /** The tables and what they mean, between the machine line and the notes. */
  body: string[];
  notes: string[];
}

/**
 * Frames a benchmark's report (title, date, machine, body, notes), prints it and writes it to
 * bench/results/<name>-<date>.md; returns the file.
 */
export async function publish(report: Report): Promise<string> {
  const onPostgres = BENCH_STORE_URL !== '';
  const text = [
    `## ${report.title}${report.store === false ? '' : `, ${onPostgres ? 'PostgreSQL' : 'SQLite'} store`}, ${report.startedAt.toISOString()}${report.quick ? ' (--quick)' : ''}`,
    '',
    `Machine: ${describeMachine()}`,
    '',
    ...report.body,
    '',
    'Notes:',
    ...report.notes.map((n) => `- ${n}`),
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  const file = join(RESULTS, `${report.name}${onPostgres && report.store !== false ? '-postgres' : ''}-${report.startedAt.toISOString().slice(0, 10)}.md`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${text}\n`);
  process.stderr.write(`[bench] written to ${relative(process.cwd(), file)}\n`);
  return file;
}
