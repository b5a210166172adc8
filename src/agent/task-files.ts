import { statSync } from 'node:fs';
import { mkdir, open, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../core/limits.js';
import { TASK_ERRORS } from '../core/task-errors.js';
import type { TaskError, TaskProgress, TaskRecord } from '../core/types.js';

/** Where one attempt's files live on the node; the same paths reach the work through env or headers. */
export interface TaskFiles {
  dir: string;
  inputFile: string;
  outputFile: string;
  outputDir: string;
  progressFile: string;
  inputAssetsDir: string;
}

/**
 * Each attempt has a directory of its own directly under the root, with no directory shared
 * between attempts: the clean-up of an attempt that was taken back can then never remove the
 * files of the next attempt, which may already run on another instance of this node.
 */
function attemptDir(root: string, task: TaskRecord): string {
  return join(root, `${task.id}.${task.attempt}`);
}

export async function prepareTaskFiles(root: string, task: TaskRecord): Promise<TaskFiles> {
  const dir = attemptDir(root, task);
  const files: TaskFiles = {
    dir,
    inputFile: join(dir, 'input.json'),
    outputFile: join(dir, 'output'),
    outputDir: join(dir, 'out'),
    progressFile: join(dir, 'progress.json'),
    inputAssetsDir: join(dir, 'inputs'),
  };
  // Two plain mkdirs: a recursive one walks the path with more calls, and the root exists but for
  // the first task. A query's input travels in the request body, so only a command gets the input
  // file. The input-assets directory is made for commands only while no input assets exist: a
  // query's dispatch path should not pay for an empty directory.
  await mkdir(dir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
  });
  await mkdir(files.outputDir);
  if (task.taskType === 'command') {
    await mkdir(files.inputAssetsDir);
    await writeFile(files.inputFile, JSON.stringify(task.input ?? null));
  }
  return files;
}

/**
 * Removes an attempt's files. Most attempts leave nothing in them (a server's answer is its
 * output), so two rmdirs come first, and the recursive removal, with a call per entry, only when
 * something is left.
 */
export async function removeTaskFiles(root: string, task: TaskRecord): Promise<void> {
  const dir = attemptDir(root, task);
  try {
    await rmdir(join(dir, 'out'));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true });
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

/** Reads the output file: absent means null; over the inline limit is an error. */
export async function readOutputFile(path: string): Promise<{ output: unknown } | { error: TaskError }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { output: null };
  }
  if (size > LIMITS.maxInlineOutputBytes) return { error: TASK_ERRORS.outputTooLarge(size) };
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
