import { describe, expect, it } from 'vitest';
import type { StateMachine } from './definition.js';
import { ItemsMissing, type WorkflowCommand, advance, runningTaskKeys, startExecution } from './interpreter.js';

const started = (cs: WorkflowCommand[]) => cs.filter((c) => c.type === 'start-task').map((c) => (c as { key: string }).key);

describe('workflow interpreter', () => {
  const mapOf = (max: number): StateMachine => ({
    StartAt: 'Each',
    States: { Each: { Type: 'Map', ItemsPath: '$.chunks', MaxConcurrency: max, ItemProcessor: { StartAt: 'Encode', States: { Encode: { Type: 'Task', Resource: 'encode', End: true } } }, End: true } },
  });

  it('keeps at most MaxConcurrency items in flight, and gathers the results in item order', () => {
    const def = mapOf(2);
    let { state, commands } = startExecution(def, { chunks: ['a', 'b', 'c', 'd', 'e'] }, 0);
    let inFlight = started(commands);
    expect(inFlight).toHaveLength(2);
    const seen = new Set(inFlight);
    while (state.status === 'RUNNING') {
      const key = inFlight[inFlight.length - 1]!;
      ({ state, commands } = advance(def, state, { type: 'task-succeeded', key, output: key.split('/').find((p) => p.startsWith('i')) }, 1));
      for (const k of started(commands)) seen.add(k);
      inFlight = runningTaskKeys(state);
      expect(inFlight.length).toBeLessThanOrEqual(2);
    }
    expect(seen.size).toBe(5);
    expect(state).toMatchObject({ status: 'SUCCEEDED', output: ['i0', 'i1', 'i2', 'i3', 'i4'] });
  });

  it('ignores an event for a task it no longer waits for (a replay), and starts nothing twice', () => {
    const def = mapOf(0);
    const first = startExecution(def, { chunks: [1, 2] }, 0);
    const [a] = started(first.commands);
    const once = advance(def, first.state, { type: 'task-succeeded', key: a!, output: 'x' }, 1);
    const twice = advance(def, once.state, { type: 'task-succeeded', key: a!, output: 'y' }, 2);
    expect(twice.commands).toEqual([]);
    expect(twice.state).toEqual(once.state);
  });

  it('retries after the retrier’s interval under a new key, then catches, with the error at the ResultPath', () => {
    const def: StateMachine = {
      StartAt: 'Train',
      States: {
        Train: { Type: 'Task', Resource: 'train', Retry: [{ ErrorEquals: ['EXIT_CODE'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 1 }], Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Report', ResultPath: '$.error' }], End: true },
        Report: { Type: 'Pass', End: true },
      },
    };
    let { state, commands } = startExecution(def, { run: 1 }, 0);
    const [firstTry] = started(commands);
    ({ state, commands } = advance(def, state, { type: 'task-failed', key: firstTry!, code: 'EXIT_CODE', message: 'exit 1' }, 10_000));
    expect(commands).toEqual([{ type: 'set-timer', key: expect.stringContaining('@retry1'), at: 12_000 }]);
    ({ state, commands } = advance(def, state, { type: 'timer', key: (commands[0] as { key: string }).key }, 12_000));
    const [secondTry] = started(commands);
    expect(secondTry).not.toBe(firstTry);
    ({ state, commands } = advance(def, state, { type: 'task-failed', key: secondTry!, code: 'EXIT_CODE', message: 'exit 1 again' }, 13_000));
    expect(state).toMatchObject({ status: 'SUCCEEDED', output: { run: 1, error: { Error: 'EXIT_CODE', Cause: 'exit 1 again' } } });
  });

  it('cancels every running task on a cancel, and ends TIMED_OUT on a timeout', () => {
    const def = mapOf(3);
    const { state, commands } = startExecution(def, { chunks: [1, 2, 3] }, 0);
    const cancelled = advance(def, state, { type: 'cancel' }, 1);
    expect(cancelled.commands.filter((c) => c.type === 'cancel-task').map((c) => (c as { key: string }).key).sort()).toEqual(started(commands).sort());
    expect(cancelled.state.status).toBe('CANCELLED');
    expect(advance(def, state, { type: 'timeout' }, 1).state).toMatchObject({ status: 'TIMED_OUT', error: { Error: 'States.Timeout' } });
  });

  it('reads a Map’s items a page at a time through its item source, keeps results outside the state, and ends with their asset', () => {
    const def: StateMachine = {
      StartAt: 'Each',
      States: { Each: { Type: 'Map', ItemReader: { AssetPath: '$.list' }, ResultWriter: {}, MaxConcurrency: 3, ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: 'work', End: true } } }, ResultPath: '$.out', End: true } },
    };
    const PAGE = 4;
    const pages = new Map<number, number[]>();
    const loads: number[] = [];
    const items = (_key: string, i: number): unknown => {
      const page = pages.get(Math.floor(i / PAGE));
      if (!page) throw new ItemsMissing(_key, i);
      return page[i % PAGE];
    };
    /** What a driver does: on a miss, load the page and run the same step again. */
    const step = <T>(run: () => T): T => {
      for (;;) {
        try {
          return run();
        } catch (err) {
          if (!(err instanceof ItemsMissing)) throw err;
          const page = Math.floor(err.index / PAGE);
          loads.push(page);
          pages.set(page, Array.from({ length: PAGE }, (_, j) => (page * PAGE + j) * 10));
        }
      }
    };
    let { state, commands } = step(() => startExecution(def, { list: 'asset_1' }, 0, items));
    expect(commands).toEqual([{ type: 'read-items', key: 'x/1:Each#1', asset: 'asset_1' }]);
    ({ state, commands } = step(() => advance(def, state, { type: 'items-read', key: 'x/1:Each#1', count: 10 }, 1, items)));
    const results: { index: number; value: unknown }[] = [];
    for (;;) {
      const inFlight = runningTaskKeys(state);
      expect(inFlight.length).toBeLessThanOrEqual(3);
      if (inFlight.length === 0) break;
      const input = (k: string): number => Number(k.split('/i')[1]!.split('/')[0]);
      ({ state, commands } = step(() => advance(def, state, { type: 'task-succeeded', key: inFlight[0]!, output: { done: input(inFlight[0]!) } }, 2, items)));
      for (const c of commands) if (c.type === 'put-result') results.push({ index: c.index, value: c.value });
      expect(JSON.stringify(state).length).toBeLessThan(3000);
    }
    expect(commands.at(-1)).toEqual({ type: 'write-results', key: 'x/1:Each#1', count: 10 });
    expect(results.sort((a, b) => a.index - b.index).map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => ({ done: i })));
    expect(loads).toEqual([0, 1, 2]);
    ({ state } = advance(def, state, { type: 'results-written', key: 'x/1:Each#1', asset: { id: 'asset_2' } }, 3, items));
    expect(state).toMatchObject({ status: 'SUCCEEDED', output: { list: 'asset_1', out: { asset: { id: 'asset_2' }, count: 10 } } });
  });
});
