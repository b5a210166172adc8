import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../core/types.js';
import { prepareTaskFiles, readProgress, removeTaskFiles } from './task-files.js';

describe('task files', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-task-files-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("removing a taken-back attempt's files leaves the next attempt's alone", async () => {
    const first = { id: 'task_1', attempt: 1, taskType: 'command', input: { n: 1 } } as TaskRecord;
    const second = { ...first, attempt: 2 };
    await prepareTaskFiles(root, first);
    const files = await prepareTaskFiles(root, second);
    await removeTaskFiles(root, first);
    expect(existsSync(files.inputFile)).toBe(true);
    expect(existsSync(files.outputDir)).toBe(true);
    await removeTaskFiles(root, second);
    expect(existsSync(files.dir)).toBe(false);
  });

  it('makes a missing root, and removes an attempt whether it left its directories empty or wrote into them', async () => {
    const fresh = join(root, 'not-yet', 'tasks');
    const empty = await prepareTaskFiles(fresh, { id: 'task_2', attempt: 1, taskType: 'query' } as TaskRecord);
    expect(await readProgress(empty.progressFile, 0)).toBeNull();
    await removeTaskFiles(fresh, { id: 'task_2', attempt: 1 } as TaskRecord);
    expect(existsSync(empty.dir)).toBe(false);
    const used = await prepareTaskFiles(fresh, { id: 'task_3', attempt: 1, taskType: 'query' } as TaskRecord);
    writeFileSync(join(used.outputDir, 'frame.png'), 'x');
    writeFileSync(used.progressFile, JSON.stringify({ progress: 40, message: 'half' }));
    expect((await readProgress(used.progressFile, 0))?.progress).toEqual({ progress: 40, message: 'half', partialOutput: null });
    await removeTaskFiles(fresh, { id: 'task_3', attempt: 1 } as TaskRecord);
    expect(existsSync(used.dir)).toBe(false);
  });
});
