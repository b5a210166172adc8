import { formatJson } from '../format.ts';

/** A labelled JSON value; absent values say so instead of showing an empty box. */
export function JsonBlock({ title, value, empty = 'none' }: { title: string; value: unknown; empty?: string }) {
  const text = value === undefined || value === null ? '' : formatJson(value);
  return (
    <section className="json-block">
      <h3>{title}</h3>
      {text ? <pre>{text}</pre> : <p className="muted">{empty}</p>}
    </section>
  );
}
