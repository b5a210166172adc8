import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../core/limits.js';
import type { TaskProgress, TaskRecord } from '../core/types.js';
import type { OutputFile } from './output-assets.js';

/** Where one attempt's files live on the node; the same paths reach the work through env or headers. */
export interface TaskFiles {
  dir: string;
  inputFile: string;
  outputFile: string;
  outputDir: string;
  progressFile: string;
  inputAssetsDir: string;
}

/** What Ferry itself writes into an attempt's directory, and clears from it when it ends. */
const OWN_FILES = new Set(['input.json', 'output', 'progress.json', 'response']);
/** The directories every attempt gets, left in place between attempts while they are empty. */
const OWN_DIRS = ['out', 'inputs'];

function filesIn(dir: string): TaskFiles {
  return {
    dir,
    inputFile: join(dir, 'input.json'),
    outputFile: join(dir, 'output'),
    outputDir: join(dir, 'out'),
    progressFile: join(dir, 'progress.json'),
    inputAssetsDir: join(dir, 'inputs'),
  };
}

/**
 * The attempts' directories of one node. Each attempt has a directory to itself from its start to
 * its end, never shared with another live attempt: the clean-up of an attempt that was taken back
 * can then never touch the files of the next one, which may already run on another instance of
 * this node. A directory an attempt leaves as it found it (Ferry's own files aside) serves a later
 * attempt; one it wrote into is removed. A mkdir or rmdir costs some 45 µs here against some 4 µs
 * for a readdir, and a server-mode task usually writes nothing, so its dispatch makes no directory.
 */
export class TaskDirs {
  private readonly free: string[] = [];
  private made = 0;

  constructor(private readonly root: string) {}

  /** Removes what an agent before this one left; only at the start, while no attempt runs. */
  async reset(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  /** A directory for the attempt, with its input file for a command (a query's input travels in the request). */
  async acquire(task: TaskRecord): Promise<TaskFiles> {
    const files = filesIn(this.free.pop() ?? (await this.make()));
    if (task.taskType === 'command') await writeFile(files.inputFile, JSON.stringify(task.input ?? null));
    return files;
  }

  /**
   * Gives an ended attempt's directory back: kept for a later attempt when `reusable` and it holds
   * nothing of the attempt's own, else removed.
   */
  async release(files: TaskFiles, reusable: boolean): Promise<void> {
    try {
      if (!reusable) throw new Error('not to be used again');
      for (const entry of readdirSync(files.dir)) {
        if (OWN_DIRS.includes(entry)) {
          if (readdirSync(join(files.dir, entry)).length > 0) throw new Error('written into');
        } else if (OWN_FILES.has(entry)) unlinkSync(join(files.dir, entry));
        else throw new Error('written into');
      }
      this.free.push(files.dir);
    } catch {
      await rm(files.dir, { recursive: true, force: true });
    }
  }

  private async make(): Promise<string> {
    const dir = join(this.root, `a${++this.made}`);
    await mkdir(dir, { recursive: true });
    for (const sub of OWN_DIRS) await mkdir(join(dir, sub));
    return dir;
  }
}

/** The env a job-mode command gets (the interface contract). */
export function taskEnv(task: TaskRecord, files: TaskFiles): Record<string, string> {
  return {
    FERRY_TASK_ID: task.id,
    FERRY_FUNCTION_ID: task.functionId,
    FERRY_VERSION_ID: task.versionId,
    FERRY_ATTEMPT: String(task.attempt),
    FERRY_INPUT_FILE: files.inputFile,
    FERRY_OUTPUT_FILE: files.outputFile,
    FERRY_OUTPUT_DIR: files.outputDir,
    FERRY_PROGRESS_FILE: files.progressFile,
    FERRY_INPUT_ASSETS_DIR: files.inputAssetsDir,
  };
}

/** The headers a server-mode request carries (the interface contract). */
export function taskHeaders(task: TaskRecord, files: TaskFiles): Record<string, string> {
  return {
    'Ferry-Task-Id': task.id,
    'Ferry-Function-Id': task.functionId,
    'Ferry-Version-Id': task.versionId,
    'Ferry-Attempt': String(task.attempt),
    'Ferry-Progress-File': files.progressFile,
    'Ferry-Output-Dir': files.outputDir,
    'Ferry-Input-Assets-Dir': files.inputAssetsDir,
  };
}

/** Output text as the contract reads it: JSON when it parses, else the text itself. */
export function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads the output file: absent means null; over the inline limit, the file itself is the output (an asset to be). */
export async function readOutputFile(path: string): Promise<{ output: unknown } | { outputFile: OutputFile }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { output: null };
  }
  if (size > LIMITS.maxInlineOutputBytes) return { outputFile: { path, name: 'output', contentType: 'application/octet-stream' } };
  return { output: parseOutput(await readFile(path, 'utf8')) };
}

/**
 * Reads the progress file if it changed since `lastMtimeMs`. A half-written or malformed file is
 * skipped (the next poll reads it whole); progress is clamped to 0–100.
 */
export async function readProgress(path: string, lastMtimeMs: number): Promise<{ mtimeMs: number; progress: TaskProgress } | null> {
  // Most tasks never write one: a stat that answers "absent" without throwing costs least.
  if (!statSync(path, { throwIfNoEntry: false })) return null;
  let handle;
  try {
    handle = await open(path, 'r');
    const s = await handle.stat();
    if (s.mtimeMs === lastMtimeMs || s.size > LIMITS.maxInlineOutputBytes) return null;
    const parsed: unknown = JSON.parse(await handle.readFile('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const p = parsed as { progress?: unknown; message?: unknown; partialOutput?: unknown };
    const value = typeof p.progress === 'number' && Number.isFinite(p.progress) ? Math.min(100, Math.max(0, p.progress)) : 0;
    return {
      mtimeMs: s.mtimeMs,
      progress: { progress: value, message: typeof p.message === 'string' ? p.message.slice(0, 1000) : null, partialOutput: p.partialOutput ?? null },
    };
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}
