import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: bodies are strict (no type coercion, no unknown fields), while query strings
 * and path parameters arrive as text and are coerced to the declared types.
 */
export function validatorCompiler(shared: object[]): FastifySchemaCompiler<unknown> {
  const make = (coerce: boolean): Ajv => {
    // verbose: errors carry their schema, so a union's error can list the allowed values.
    const ajv = new Ajv({ allErrors: false, verbose: true, coerceTypes: coerce, removeAdditional: false, useDefaults: true, strict: false });
    ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s) });
    for (const s of shared) ajv.addSchema(s);
    return ajv;
  };
  const body = make(false);
  const text = make(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}

/** Error text that names the field: `version.mode: must be one of server, job`. */
export function formatValidationErrors(errors: ErrorObject[], dataVar: string): Error {
  // A union's branches each fail first; the anyOf error that sums them up names the choices.
  const e = errors.find((x) => x.keyword === 'anyOf') ?? errors[0]!;
  const base = (dataVar === 'body' ? '' : `${dataVar}.`) + e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const at = (name: string): string => (base === '' || base.endsWith('.') ? `${base}${name}` : `${base}.${name}`);
  const where = base === '' ? dataVar : base.replace(/\.$/, '');
  let message: string;
  switch (e.keyword) {
    case 'additionalProperties':
      message = `${at(String(e.params.additionalProperty))}: unknown field`;
      break;
    case 'required':
      message = `${at(String(e.params.missingProperty))}: required`;
      break;
    case 'type':
      message = `${where}: must be ${e.params.type}`;
      break;
    case 'enum':
      message = `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
      break;
    case 'anyOf': {
      const literals = ((e.schema ?? []) as { const?: unknown }[]).map((s) => s.const).filter((c) => c !== undefined);
      message = literals.length ? `${where}: must be one of ${literals.join(', ')}` : `${where}: is not any of the allowed shapes`;
      break;
    }
    default:
      message = `${where}: ${e.message ?? 'is invalid'}`;
  }
  return new Error(message);
}
