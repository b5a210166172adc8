import { describe, expect, it } from 'vitest';
import { checkTemplate, renderTemplate } from './input-template.js';

describe('input templates', () => {
  const event = { body: { url: 's3://a/b.mp4', sizes: [720, 1080] }, headers: { 'x-k': 'v' } };

  it('takes paths from the event at keys ending in .$, and keeps the rest as written', () => {
    expect(renderTemplate({ 'src.$': '$.body.url', 'first.$': '$.body.sizes[1]', 'h.$': "$.headers['x-k']", fixed: 1, nested: [{ 'all.$': '$' }] }, event)).toEqual({
      src: 's3://a/b.mp4',
      first: 1080,
      h: 'v',
      fixed: 1,
      nested: [{ all: event }],
    });
  });

  it('gives null for a path that finds nothing', () => {
    expect(renderTemplate({ 'x.$': '$.body.missing.deeper', 'y.$': '$.body.sizes[9]', 'z.$': '$.body.url.length' }, event)).toEqual({ x: null, y: null, z: null });
  });

  it('refuses a bad path, naming where it is', () => {
    expect(() => checkTemplate({ a: { 'b.$': 'body.url' } }, 'task.input')).toThrow('task.input.a.b.$: "body.url" is not a path; a path starts with "$"');
    expect(() => checkTemplate([{ 'b.$': '$.x..y' }], 'task.input')).toThrow(/^task\.input\[0\]\.b\.\$: "\$\.x\.\.y" is not a path/);
    expect(() => checkTemplate({ 'b.$': 3 }, 'task.input')).toThrow(/takes a path/);
    expect(() => checkTemplate({ 'b.$': '$.ok[0]' }, 'task.input')).not.toThrow();
  });
});

describe('paths', () => {
  it('reads a value at a path, and puts one there without touching the original', async () => {
    const { valueAtPath, withValueAt } = await import('./input-template.js');
    const doc = { a: { b: [1, 2] } };
    expect(valueAtPath(doc, '$.a.b[1]')).toBe(2);
    expect(withValueAt(doc, '$.a.c', 3)).toEqual({ a: { b: [1, 2], c: 3 } });
    expect(withValueAt(doc, '$.x.y', 1)).toEqual({ a: { b: [1, 2] }, x: { y: 1 } });
    expect(withValueAt(doc, '$', 'all')).toBe('all');
    expect(withValueAt('text', '$.r', 1)).toEqual({ r: 1 });
    expect(doc).toEqual({ a: { b: [1, 2] } });
  });
});
