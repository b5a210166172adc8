/** `?a=1&b=x` of the parameters that are given (none: the empty string). */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return q ? `?${q}` : '';
}
