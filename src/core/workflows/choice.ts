import { invalid } from '../errors.js';
import { valueAtPath } from '../input-template.js';

/**
 * A Choice state's rule, as the Amazon States Language writes it: `And`, `Or`, `Not`, or a
 * `Variable` (a path) with one comparison, against a value or (`…Path`) against another path.
 */
export type ChoiceRule =
  | { And: ChoiceRule[] }
  | { Or: ChoiceRule[] }
  | { Not: ChoiceRule }
  | ({ Variable: string } & Partial<Record<Comparison | `${ValueComparison}Path`, unknown>>);

const VALUE_COMPARISONS = [
  'StringEquals',
  'StringLessThan',
  'StringGreaterThan',
  'StringLessThanEquals',
  'StringGreaterThanEquals',
  'StringMatches',
  'NumericEquals',
  'NumericLessThan',
  'NumericGreaterThan',
  'NumericLessThanEquals',
  'NumericGreaterThanEquals',
  'BooleanEquals',
] as const;
const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean'] as const;
type ValueComparison = (typeof VALUE_COMPARISONS)[number];
type Comparison = ValueComparison | (typeof TYPE_TESTS)[number];

const OPERATORS: readonly string[] = [...VALUE_COMPARISONS, ...VALUE_COMPARISONS.filter((c) => c !== 'StringMatches').map((c) => `${c}Path`), ...TYPE_TESTS];

/** Checks a rule's shape, naming the field under `at`. */
export function checkChoiceRule(rule: ChoiceRule, at: string): void {
  if (typeof rule !== 'object' || rule === null) throw invalid(`${at}: a rule (And, Or, Not, or a Variable with a comparison)`);
  if ('And' in rule || 'Or' in rule) {
    const list = 'And' in rule ? rule.And : rule.Or;
    const key = 'And' in rule ? 'And' : 'Or';
    if (!Array.isArray(list) || list.length === 0) throw invalid(`${at}.${key}: at least one rule`);
    list.forEach((r, i) => checkChoiceRule(r, `${at}.${key}[${i}]`));
    return;
  }
  if ('Not' in rule) return checkChoiceRule(rule.Not, `${at}.Not`);
  if (typeof rule.Variable !== 'string') throw invalid(`${at}.Variable: required, a path such as "$.score"`);
  valueAtPath(null, rule.Variable, `${at}.Variable`);
  const ops = Object.keys(rule).filter((k) => OPERATORS.includes(k));
  if (ops.length !== 1) throw invalid(`${at}: a rule with a Variable takes exactly one comparison (${VALUE_COMPARISONS.slice(0, 3).join(', ')}, …, IsPresent)`);
  const op = ops[0]!;
  const operand = (rule as Record<string, unknown>)[op];
  if (op.endsWith('Path')) {
    if (typeof operand !== 'string') throw invalid(`${at}.${op}: a path`);
    valueAtPath(null, operand, `${at}.${op}`);
  } else if (op.startsWith('String') && typeof operand !== 'string') throw invalid(`${at}.${op}: a string`);
  else if (op.startsWith('Numeric') && typeof operand !== 'number') throw invalid(`${at}.${op}: a number`);
  else if ((op.startsWith('Boolean') || op.startsWith('Is')) && typeof operand !== 'boolean') throw invalid(`${at}.${op}: true or false`);
}

/** Whether the rule holds for the state's input. */
export function ruleHolds(rule: ChoiceRule, input: unknown): boolean {
  if ('And' in rule) return rule.And.every((r) => ruleHolds(r, input));
  if ('Or' in rule) return rule.Or.some((r) => ruleHolds(r, input));
  if ('Not' in rule) return !ruleHolds(rule.Not, input);
  const present = isPresent(input, rule.Variable);
  const value = valueAtPath(input, rule.Variable);
  const [op, raw] = Object.entries(rule).find(([k]) => OPERATORS.includes(k))!;
  switch (op) {
    case 'IsPresent':
      return present === raw;
    case 'IsNull':
      return (present && value === null) === raw;
    case 'IsNumeric':
      return (typeof value === 'number') === raw;
    case 'IsString':
      return (typeof value === 'string') === raw;
    case 'IsBoolean':
      return (typeof value === 'boolean') === raw;
  }
  const base = op.endsWith('Path') ? op.slice(0, -4) : op;
  const against = op.endsWith('Path') ? valueAtPath(input, raw as string) : raw;
  if (base === 'StringMatches') return typeof value === 'string' && globMatches(raw as string, value);
  if (base.startsWith('String')) return typeof value === 'string' && typeof against === 'string' && compare(base.slice(6), value, against);
  if (base.startsWith('Numeric')) return typeof value === 'number' && typeof against === 'number' && compare(base.slice(7), value, against);
  return typeof value === 'boolean' && value === against;
}

function compare<T extends string | number>(how: string, a: T, b: T): boolean {
  switch (how) {
    case 'Equals':
      return a === b;
    case 'LessThan':
      return a < b;
    case 'GreaterThan':
      return a > b;
    case 'LessThanEquals':
      return a <= b;
    default:
      return a >= b;
  }
}

/** `*` matches any run of characters; `\\*` a star. */
function globMatches(pattern: string, value: string): boolean {
  const parts = pattern.split(/(?<!\\)\*/).map((p) => p.replace(/\\\*/g, '*').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(value);
}

/** Whether the path finds a field (null included), not merely nothing. */
function isPresent(input: unknown, path: string): boolean {
  const cut = path.match(/^(.*)(?:\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\])$/);
  if (!cut) return true;
  const parent = valueAtPath(input, cut[1] || '$');
  if (parent === null || typeof parent !== 'object') return false;
  if (cut[3] !== undefined) return Array.isArray(parent) && Number(cut[3]) < parent.length;
  return Object.hasOwn(parent, cut[2] ?? cut[4]!);
}
