import { useEffect, useRef } from 'react';
import type { LogLine } from '../../../src/sdk/client.ts';

// A task keeps up to 1 MiB of logs per attempt; the page shows the tail so it stays responsive.
const MAX_SHOWN = 5000;

/** Log lines as they arrive, stderr and Ferry's own lines marked, kept scrolled to the end. */
export function LogView({ lines }: { lines: LogLine[] }) {
  const box = useRef<HTMLPreElement>(null);
  // Follow the end only while the reader is there, so scrolling back is not undone by new lines.
  const atEnd = useRef(true);
  const shown = lines.length > MAX_SHOWN ? lines.slice(-MAX_SHOWN) : lines;
  const attempts = new Set(lines.map((l) => l.attempt)).size > 1;

  useEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  if (lines.length === 0) return <p className="muted">No log lines yet.</p>;
  return (
    <pre
      className="logs"
      ref={box}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {lines.length > MAX_SHOWN && <div className="log-line system">… {lines.length - MAX_SHOWN} earlier lines not shown</div>}
      {shown.map((l) => (
        <div key={`${l.attempt}/${l.seq}`} className={`log-line ${l.stream}`}>
          {attempts && <span className="log-attempt">#{l.attempt} </span>}
          {l.text}
        </div>
      ))}
    </pre>
  );
}
