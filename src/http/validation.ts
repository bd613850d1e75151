import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ValidationIssue } from '../contract/schemas.js';
import { RequestValidationError } from './request-validation-error.js';

/** A TypeBox validation error as produced by `Compile(schema).Errors(value)`. */
interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

type Part = 'body' | 'query' | 'path' | 'header';
const PARTS: Record<string, Part> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

const TYPE_ERRORS: Record<string, [string, string]> = {
  string: ['string_type', 'Input should be a valid string'],
  integer: ['int_type', 'Input should be a valid integer'],
  number: ['float_type', 'Input should be a valid number'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  array: ['list_type', 'Input should be a valid list'],
  object: ['dict_type', 'Input should be a valid dictionary'],
  null: ['none_required', 'Input should be None'],
};

function pointer(path: string): string[] {
  if (path === '' || path === '#') return [];
  return path
    .replace(/^#?\//, '')
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function loc(part: Part, instancePath: string, extra?: string): (string | number)[] {
  const out: (string | number)[] = [part];
  for (const seg of pointer(instancePath)) out.push(/^\d+$/.test(seg) ? Number(seg) : seg);
  if (extra !== undefined) out.push(extra);
  return out;
}

function resolve(schema: unknown, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const seg of pointer(schemaPath)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Turns TypeBox errors into FastAPI-shaped issues: one entry per problem, `loc` starting with the
 * request part. Union branches collapse into one entry for the field (as pydantic reports an
 * `Optional[str]` given a number as `string_type`).
 */
export function toIssues(schema: TSchema, part: Part, errors: readonly SchemaError[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: ValidationIssue): void => {
    const k = JSON.stringify([issue.type, issue.loc]);
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(issue);
    }
  };
  for (const e of errors) {
    if (/\/(anyOf|oneOf)\/\d+/.test(e.schemaPath)) continue; // reported once by the union itself
    const at = loc(part, e.instancePath);
    const custom = resolve(schema, e.schemaPath)?.['x-error'] as { type: string; msg: string } | undefined;
    switch (e.keyword) {
      case 'required':
        for (const name of (e.params.requiredProperties as string[] | undefined) ?? []) {
          add({ type: 'missing', loc: loc(part, e.instancePath, name), msg: 'Field required' });
        }
        break;
      case 'anyOf':
      case 'oneOf': {
        const branch = errors.find(
          (b) => b.instancePath === e.instancePath && b.keyword === 'type' && b.params.type !== 'null' && b.schemaPath.startsWith(`${e.schemaPath}/`),
        );
        const [type, msg] = TYPE_ERRORS[String(branch?.params.type)] ?? ['union_type', 'Input does not match any allowed type'];
        add({ type, loc: at, msg });
        break;
      }
      case 'type': {
        const [type, msg] = TYPE_ERRORS[String(e.params.type)] ?? ['type_error', e.message];
        add({ type, loc: at, msg });
        break;
      }
      case 'minLength': {
        const n = Number(e.params.limit);
        add({ type: 'string_too_short', loc: at, msg: `String should have at least ${plural(n, 'character')}` });
        break;
      }
      case 'maxLength': {
        const n = Number(e.params.limit);
        add({ type: 'string_too_long', loc: at, msg: `String should have at most ${plural(n, 'character')}` });
        break;
      }
      case 'minItems':
      case 'minProperties': {
        const n = Number(e.params.limit);
        add({ type: 'too_short', loc: at, msg: `Should have at least ${plural(n, 'item')}` });
        break;
      }
      case 'maxItems':
      case 'maxProperties': {
        const n = Number(e.params.limit);
        add({ type: 'too_long', loc: at, msg: `Should have at most ${plural(n, 'item')}` });
        break;
      }
      case 'pattern':
        add(
          custom
            ? { type: custom.type, loc: at, msg: custom.msg }
            : { type: 'string_pattern_mismatch', loc: at, msg: `String should match pattern '${String(e.params.pattern)}'` },
        );
        break;
      default:
        add({ type: custom?.type ?? 'value_error', loc: at, msg: custom?.msg ?? e.message });
    }
  }
  return issues;
}

/**
 * Fastify validator compiler backed by TypeBox's compiled checker. Values are checked as sent,
 * never coerced (path and query parameters are all strings in this API; a repeated query
 * parameter arrives as an array and is rejected). Defaults are applied by the handlers.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const checker = Compile(schema);
  const part = PARTS[httpPart ?? 'body'] ?? 'body';
  return (value: unknown) => {
    if (checker.Check(value)) return { value };
    return { error: new RequestValidationError(toIssues(schema, part, checker.Errors(value))) };
  };
};

/** A request body's check against `schema`: the 422 error Fastify's validation gives, or undefined. */
export function bodyValidator(schema: TSchema): (value: unknown) => RequestValidationError | undefined {
  const checker = Compile(schema);
  return (value) => (checker.Check(value) ? undefined : new RequestValidationError(toIssues(schema, 'body', checker.Errors(value))));
}
