import { describe, expect, it } from 'vitest';
import { isJsonType, outputBody, outputValue } from './outputs.js';

describe('task outputs', () => {
  it('tells JSON types from others', () => {
    for (const t of ['application/json', 'application/json; charset=utf-8', 'application/problem+json', 'APPLICATION/JSON']) expect(isJsonType(t)).toBe(true);
    for (const t of ['text/plain', 'application/jsonl', 'text/json-ish', 'image/png']) expect(isJsonType(t)).toBe(false);
  });

  it('shows a response by its type and answers with it exactly as given', () => {
    const pretty = '{\n  "a": 1.0\n}';
    expect(outputValue({ output: pretty, outputType: 'application/json' })).toEqual({ a: 1 });
    expect(outputBody({ output: pretty, outputType: 'application/json' })).toEqual({ contentType: 'application/json', body: pretty });
    expect(outputValue({ output: '{"a":1}', outputType: 'text/plain' })).toBe('{"a":1}');
    expect(outputBody({ output: '{"a":1}', outputType: 'text/plain' })).toEqual({ contentType: 'text/plain', body: '{"a":1}' });
    expect(outputValue({ output: 'not json', outputType: 'application/json' })).toBe('not json');
    expect(outputBody({ output: { a: 1 }, outputType: null })).toEqual({ contentType: 'application/json; charset=utf-8', body: '{"a":1}' });
  });
});
