import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../core/types.js';
import { prepareTaskFiles, removeTaskFiles } from './task-files.js';

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
});
