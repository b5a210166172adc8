import { describe, expect, it } from 'vitest';
import { readServerSentEvents } from './sse.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function all(chunks: string[]) {
  const out = [];
  for await (const e of readServerSentEvents(streamOf(chunks))) out.push(e);
  return out;
}

describe('readServerSentEvents', () => {
  it('reads named events with ids, joins data lines and skips comments', async () => {
    expect(await all([': hello\n\nevent: log\nid: 7\ndata: {"a":1}\n\n', 'data: one\ndata: two\n\n'])).toEqual([
      { event: 'log', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'one\ntwo', id: '7' },
    ]);
  });

  it('handles events split across chunks, CRLF and CR line ends, and a field without a space', async () => {
    expect(await all(['event: st', 'atus\r', '\ndata:x\r\n\r', '\ndata: y\r\r'])).toEqual([
      { event: 'status', data: 'x', id: null },
      { event: 'message', data: 'y', id: null },
    ]);
  });

  it('drops an event the stream cut before its blank line', async () => {
    expect(await all(['data: whole\n\ndata: cut'])).toEqual([{ event: 'message', data: 'whole', id: null }]);
  });
});
