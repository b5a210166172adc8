import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../core/types.js';
import { TaskDirs, readProgress } from './task-files.js';

describe('task files', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-task-files-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const query = (id: string): TaskRecord => ({ id, attempt: 1, taskType: 'query', input: null }) as TaskRecord;

  it("gives live attempts directories of their own, so releasing a taken-back attempt's leaves the next attempt's alone", async () => {
    const dirs = new TaskDirs(join(root, 'a'));
    const first = { id: 'task_1', attempt: 1, taskType: 'command', input: { n: 1 } } as TaskRecord;
    const one = await dirs.acquire(first);
    const two = await dirs.acquire({ ...first, attempt: 2 });
    expect(two.dir).not.toBe(one.dir);
    await dirs.release(one, false);
    expect(existsSync(one.dir)).toBe(false);
    expect(existsSync(two.inputFile)).toBe(true);
    expect(existsSync(two.outputDir)).toBe(true);
  });

  it('serves a later attempt from a directory left as it was found, with Ferry’s own files cleared, and removes one written into', async () => {
    const dirs = new TaskDirs(join(root, 'b', 'not-yet'));
    const empty = await dirs.acquire(query('task_2'));
    expect(await readProgress(empty.progressFile, 0)).toBeNull();
    writeFileSync(empty.progressFile, JSON.stringify({ progress: 40, message: 'half' }));
    expect((await readProgress(empty.progressFile, 0))?.progress).toEqual({ progress: 40, message: 'half', partialOutput: null });
    await dirs.release(empty, true);
    const again = await dirs.acquire(query('task_3'));
    expect(again.dir).toBe(empty.dir);
    expect(existsSync(again.progressFile)).toBe(false);
    writeFileSync(join(again.outputDir, 'frame.png'), 'x');
    await dirs.release(again, true);
    expect(existsSync(again.dir)).toBe(false);
    const fresh = await dirs.acquire(query('task_4'));
    expect(fresh.dir).not.toBe(again.dir);
    await dirs.reset();
    expect(existsSync(fresh.dir)).toBe(false);
  });
});
