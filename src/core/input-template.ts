import { invalid } from './errors.js';

/**
 * Task inputs built from an event (a trigger's message, a task's output), in the Amazon States
 * Language's shape: a template is any JSON value; in its objects a key ending in `.$` takes the
 * value at a path of the event instead (`{"url.$": "$.body.url"}` → `{"url": …}`), and a path is
 * `$` (the whole event) followed by `.name` and `[index]` steps. A path that finds nothing gives null.
 */
export function renderTemplate(template: unknown, event: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => renderTemplate(t, event));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') out[key.slice(0, -2)] = valueAt(event, parsePath(value));
    else out[key] = renderTemplate(value, event);
  }
  return out;
}

/** Checks every path in a template; the error names the field (`field` is where the template sits). */
export function checkTemplate(template: unknown, field: string): void {
  if (Array.isArray(template)) {
    template.forEach((t, i) => checkTemplate(t, `${field}[${i}]`));
    return;
  }
  if (template === null || typeof template !== 'object') return;
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith('.$')) checkTemplate(value, `${field}.${key}`);
    else if (typeof value !== 'string') throw invalid(`${field}.${key}: a key ending in ".$" takes a path such as "$.body", not ${JSON.stringify(value)}`);
    else parsePath(value, `${field}.${key}`);
  }
}

/** The value at a path of `value` (null when the path finds nothing); a bad path throws, naming `field`. */
export function valueAtPath(value: unknown, path: string, field = 'path'): unknown {
  return valueAt(value, parsePath(path, field));
}

/**
 * `target` with `value` put at `path` (`$` replaces it whole); objects on the way are copied, or
 * made where missing, so `target` itself is left as it was.
 */
export function withValueAt(target: unknown, path: string, value: unknown, field = 'path'): unknown {
  const steps = parsePath(path, field);
  const put = (at: unknown, i: number): unknown => {
    if (i === steps.length) return value;
    const step = steps[i]!;
    if (typeof step === 'number') {
      const list = Array.isArray(at) ? [...at] : [];
      list[step] = put(list[step], i + 1);
      return list;
    }
    const obj = at !== null && typeof at === 'object' && !Array.isArray(at) ? { ...(at as Record<string, unknown>) } : {};
    obj[step] = put(obj[step], i + 1);
    return obj;
  };
  return put(target, 0);
}

type Step = string | number;

const STEP = /^(?:\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\])/;

function parsePath(path: string, field = 'path'): Step[] {
  if (!path.startsWith('$')) throw invalid(`${field}: "${path}" is not a path; a path starts with "$"`);
  const steps: Step[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m) throw invalid(`${field}: "${path}" is not a path: cannot read "${rest}" (steps are .name, [index] or ['name'])`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3])!);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function valueAt(value: unknown, steps: Step[]): unknown {
  let at = value;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return null;
    at = typeof step === 'number' ? (Array.isArray(at) ? at[step] : undefined) : Object.hasOwn(at, step) ? (at as Record<string, unknown>)[step] : undefined;
    if (at === undefined) return null;
  }
  return at;
}
