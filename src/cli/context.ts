import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../core/errors.js';
import { FerryClient } from '../sdk/client.js';

export interface GlobalOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  output: 'table' | 'json';
}

/** Exit codes scripts can rely on (README: "Exit codes"). */
export const EXIT = { ok: 0, taskUnsuccessful: 1, invalid: 2, notFound: 3, auth: 4, unavailable: 5, waitTimedOut: 124 } as const;

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof FerryError)) return EXIT.invalid;
  if (err.status === 404) return EXIT.notFound;
  if (err.status === 401 || err.status === 403) return EXIT.auth;
  if (err.code === 'TASK_FAILED' || err.code === 'TASK_TIMED_OUT' || err.code === 'TASK_CANCELLED' || err.code === 'TASK_EXPIRED') return EXIT.taskUnsuccessful;
  if (err.status >= 500) return EXIT.unavailable;
  return EXIT.invalid;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * The client for a command: `--url`/`--token`, else FERRY_URL/FERRY_TOKEN, else the local
 * server with the admin key from `<data-dir>/admin.key`.
 */
export function clientFor(cmd: Command): FerryClient {
  const o = globals(cmd);
  const url = o.url ?? process.env.FERRY_URL ?? 'http://127.0.0.1:7700';
  let token = o.token ?? process.env.FERRY_TOKEN;
  if (!token) {
    const file = join(resolve(o.dataDir ?? process.env.FERRY_DATA_DIR ?? '.ferry'), 'admin.key');
    if (!existsSync(file)) throw new FerryError('UNAUTHENTICATED', `no API key: pass --token, set FERRY_TOKEN, or run where ${file} exists`);
    token = readFileSync(file, 'utf8').trim();
  }
  return new FerryClient(url, token);
}

/** Prints a value as JSON, or rows as an aligned table. */
export function print(cmd: Command, value: unknown, rows?: Record<string, unknown>[]): void {
  if (globals(cmd).output === 'json' || !rows) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(cols.map((c) => c.toUpperCase()))}\n${rows.map((r) => line(cols.map((c) => cell(r[c])))).join('\n')}\n`);
}

/** Reads JSON input from --data, --file or stdin (in that order). */
export async function readInput(data: string | undefined, file: string | undefined): Promise<unknown> {
  const text = data ?? (file ? readFileSync(file === '-' ? 0 : file, 'utf8') : process.stdin.isTTY ? '' : await readStdin());
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolveText, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => resolveText(s));
    process.stdin.on('error', reject);
  });
}

/** Commander's parser for whole numbers. */
export function intOption(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new FerryError('INVALID_REQUEST', `${name}: "${v}" is not a whole number`);
    return n;
  };
}


/** Closes what a long-running command started on the first SIGINT or SIGTERM, then exits. */
export function closeOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    void close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** A JSON file's value (`-`: stdin). */
export function readJsonFile<T>(file: string): T {
  return JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as T;
}
