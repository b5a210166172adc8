import { describe, expect, it } from 'vitest';
import { ruleHolds } from './choice.js';
import { type StateMachine, checkStateMachine } from './definition.js';

const task = (next?: string) => ({ Type: 'Task' as const, Resource: 'transcode', ...(next ? { Next: next } : { End: true as const }) });

describe('workflow definitions', () => {
  it('accepts a sound definition, branches and item processors included', () => {
    const def: StateMachine = {
      StartAt: 'Split',
      States: {
        Split: task('Chunks'),
        Chunks: { Type: 'Map', ItemsPath: '$.chunks', MaxConcurrency: 4, ItemProcessor: { StartAt: 'Encode', States: { Encode: task() } }, ResultPath: '$.encoded', Next: 'Score' },
        Score: { Type: 'Choice', Choices: [{ And: [{ Variable: '$.score', IsPresent: true }, { Variable: '$.score', NumericGreaterThanEquals: 0.9 }], Next: 'Done' }], Default: 'Retrain' },
        Retrain: { Type: 'Parallel', Branches: [{ StartAt: 'A', States: { A: task() } }], Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 2 }], Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed', ResultPath: '$.error' }], Next: 'Done' },
        Done: { Type: 'Succeed' },
        Failed: { Type: 'Fail', Error: 'TrainingFailed' },
      },
    };
    expect(() => checkStateMachine(def)).not.toThrow();
  });

  it('names the state and field of what is wrong', () => {
    const cases: [StateMachine, string][] = [
      [{ StartAt: 'Nope', States: { A: task() } }, 'definition.StartAt: "Nope" is not a state of this machine'],
      [{ StartAt: 'A', States: { A: task('B') } }, 'definition.States.A.Next: "B" is not a state of this machine'],
      [{ StartAt: 'A', States: { A: task(), B: task() } }, 'definition.States.B: cannot be reached from StartAt'],
      [{ StartAt: 'A', States: { A: { Type: 'Succeed', Next: 'A' } as never } }, 'definition.States.A.Next: a Succeed state ends its path (it takes no Next or End)'],
      [{ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'f' } as never } }, 'definition.States.A.Next: required (or "End": true)'],
      [{ StartAt: 'A', States: { A: { ...task(), InputPath: 'items' } } }, 'definition.States.A.InputPath: "items" is not a path; a path starts with "$"'],
      [{ StartAt: 'A', States: { A: { Type: 'Choice', Choices: [{ Variable: '$.x', StringEquals: 3, Next: 'A' }] } as never } }, 'definition.States.A.Choices[0].StringEquals: a string'],
      [{ StartAt: 'A', States: { A: { Type: 'Map', ItemProcessor: { StartAt: 'X', States: { Y: task() } }, End: true } } }, 'definition.States.A.ItemProcessor.StartAt: "X" is not a state of this machine'],
      [{ StartAt: 'A', States: { A: { Type: 'Wait', End: true } as never } }, 'definition.States.A: a Wait state takes exactly one of Seconds, Timestamp, SecondsPath, TimestampPath'],
      [{ StartAt: 'A', States: { A: { Type: 'Loop', End: true } as never } }, 'definition.States.A.Type: "Loop" is not a state type (Task, Pass, Choice, Parallel, Map, Wait, Succeed, Fail)'],
      [{ StartAt: 'A', States: { A: { ...task(), Retry: [{ ErrorEquals: [], MaxAttempts: 1 }] } } }, 'definition.States.A.Retry[0].ErrorEquals: a list of error codes'],
    ];
    for (const [def, message] of cases) expect(() => checkStateMachine(def), message).toThrow(message);
  });

  it('evaluates Choice rules: comparisons, paths, type tests, And, Or, Not', () => {
    const input = { score: 0.93, name: 'clip-7.mp4', ok: true, nothing: null, limit: 0.9 };
    expect(ruleHolds({ Variable: '$.score', NumericGreaterThanPath: '$.limit' }, input)).toBe(true);
    expect(ruleHolds({ Variable: '$.name', StringMatches: 'clip-*.mp4' }, input)).toBe(true);
    expect(ruleHolds({ Variable: '$.name', StringMatches: 'clip-*.mov' }, input)).toBe(false);
    expect(ruleHolds({ Variable: '$.nothing', IsNull: true }, input)).toBe(true);
    expect(ruleHolds({ Variable: '$.missing', IsPresent: false }, input)).toBe(true);
    expect(ruleHolds({ Variable: '$.nothing', IsPresent: true }, input)).toBe(true);
    expect(ruleHolds({ Not: { Variable: '$.ok', BooleanEquals: true } }, input)).toBe(false);
    expect(ruleHolds({ Or: [{ Variable: '$.score', NumericLessThan: 0.5 }, { Variable: '$.name', StringEquals: 'clip-7.mp4' }] }, input)).toBe(true);
    expect(ruleHolds({ Variable: '$.name', NumericEquals: 1 }, input)).toBe(false);
  });
});
