/** A condition of a WHERE clause with its one parameter (`?` marks its place); null when its filter was not given. */
export type Condition = { sql: string; value: unknown } | null;

/** `column op $n` when the value is given. */
export function cmp(column: string, op: '=' | '<' | '>' | '>=', value: unknown): Condition {
  return value === undefined || value === null ? null : { sql: `${column} ${op} ?`, value };
}

/**
 * `column = ANY($n)` when the list is given and not empty: one array parameter whatever the
 * length, so the statement text (and its plan) does not change with the number of values.
 */
export function isIn(column: string, values: readonly unknown[] | undefined): Condition {
  return values?.length ? { sql: `${column} = ANY(?)`, value: [...values] } : null;
}

/**
 * `WHERE a AND b …` of the given conditions (empty when none), every value a parameter numbered
 * from `firstParam`, so the caller can put its own parameters after them.
 */
export function where(conditions: Condition[], firstParam = 1): { sql: string; args: unknown[] } {
  const given = conditions.filter((c): c is NonNullable<Condition> => c !== null);
  const sql = given.map((c, i) => c.sql.replace('?', `$${firstParam + i}`)).join(' AND ');
  return { sql: sql ? `WHERE ${sql}` : '', args: given.map((c) => c.value) };
}
