import type { FastifyInstance, FastifyRequest } from 'fastify';
import { echo, FeatureStoreError } from '../errors.js';
import { RequestValidationError } from './request-validation-error.js';
import { underflowIssues, unpairedSurrogateIssues } from './json-body-checks.js';
import { jsonErrorOffset } from './json-scanner.js';

/** `application/json` or any `type/subtype+json`, parameters (`charset`) ignored. */
const JSON_MEDIA_TYPE = /^(?:application\/json|[\w!#$&^.-]+\/[\w!#$&^.+-]+\+json)\s*(?:;|$)/i;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The media type a request's body must have, checked before the body is read: JSON only. A web
 * page can make a browser send a cross-site `text/plain` or form POST without a CORS preflight;
 * refusing anything but JSON stops those from writing. A request without a body needs no type.
 */
function checkMediaType(request: FastifyRequest): FeatureStoreError | undefined {
  if (!BODY_METHODS.has(request.method) || request.is404) return undefined;
  const { 'content-type': type, 'content-length': length, 'transfer-encoding': encoding } = request.headers;
  const hasBody = encoding !== undefined || (length !== undefined && length !== '0');
  if (type === undefined ? !hasBody : JSON_MEDIA_TYPE.test(type)) return undefined;
  return new FeatureStoreError(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    `Unsupported media type: ${type === undefined ? '(none)' : echo(type)}; send application/json`,
  );
}

/**
 * Accepts only JSON bodies (415 otherwise), parses them, and reports problems in FastAPI's
 * shape: an empty body is `missing` at `["body"]`; malformed JSON, including bare `NaN`, is
 * `json_invalid` at `["body", <offset>]`; a string with an unpaired surrogate is
 * `string_unicode` and a number that underflows to zero `number_underflow`, at the value's
 * place, before any store sees them.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  // After every `onRequest` hook (request id, headers), before the body is read.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const refused = checkMediaType(request);
    if (refused === undefined) done(null, payload);
    else done(refused);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    // No route: the answer is 404 or 405 whatever the body holds.
    if (request.is404) {
      done(null, undefined);
      return;
    }
    const parsed = parseJsonBody(body as string);
    if (parsed instanceof RequestValidationError) done(parsed, undefined);
    else done(null, parsed.value);
  });
}

/** Whether a `Content-Type` names JSON (`application/json` or `…/…+json`). */
export function isJsonMediaType(type: string): boolean {
  return JSON_MEDIA_TYPE.test(type);
}

/** A request body's text as JSON, or the 422 problems it has (see `registerJsonBodyParser`). */
export function parseJsonBody(text: string): { value: unknown } | RequestValidationError {
  if (text.trim() === '') return new RequestValidationError([{ type: 'missing', loc: ['body'], msg: 'Field required' }]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/, ".*" is not valid JSON$/s, '') : 'Invalid JSON';
    const offset = jsonErrorOffset(text);
    return new RequestValidationError([{ type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error', ctx: { error: reason } }]);
  }
  const issues = [...unpairedSurrogateIssues(text, value), ...underflowIssues(text)];
  return issues.length > 0 ? new RequestValidationError(issues) : { value };
}

/**
 * `parseJsonBody` with `plain` tried first: a parser of a body's usual text (json-plain.ts) that
 * gives `JSON.parse`'s value for it and `undefined` for anything else. The answer is the same:
 * the text it takes is never empty, and has neither an escape (so no unpaired surrogate) nor a
 * number (so nothing to underflow).
 */
export function parseJsonBodyWith(plain: (text: string) => unknown): (text: string) => { value: unknown } | RequestValidationError {
  return (text) => {
    const value = plain(text);
    return value === undefined ? parseJsonBody(text) : { value };
  };
}
