/** A condition of a WHERE clause with its parameters; null when its filter was not given. */
export type Condition = { sql: string; args: unknown[] } | null;

export const placeholders = (n: number): string => new Array(n).fill('?').join(',');

/** `column op ?` when the value is given. */
export function cmp(column: string, op: '=' | '<' | '>' | '>=', value: unknown): Condition {
  return value === undefined || value === null ? null : { sql: `${column} ${op} ?`, args: [value] };
}

/** `column IN (?, …)` when the list is given and not empty. */
export function isIn(column: string, values: readonly unknown[] | undefined): Condition {
  return values?.length ? { sql: `${column} IN (${placeholders(values.length)})`, args: [...values] } : null;
}

/** `WHERE a AND b …` of the given conditions (empty when none), every value a parameter. */
export function where(...conditions: Condition[]): { sql: string; args: unknown[] } {
  const given = conditions.filter((c): c is NonNullable<Condition> => c !== null);
  return { sql: given.length ? `WHERE ${given.map((c) => c.sql).join(' AND ')}` : '', args: given.flatMap((c) => c.args) };
}
