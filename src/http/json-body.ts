import type { FastifyInstance } from 'fastify';
import { RequestValidationError } from './request-validation-error.js';
import { underflowIssues, unpairedSurrogateIssues } from './json-body-checks.js';
import { jsonErrorOffset } from './json-scanner.js';

/**
 * Parses request bodies as JSON and reports problems in FastAPI's shape: an empty body is
 * `missing` at `["body"]`; malformed JSON, including bare `NaN`, is `json_invalid` at
 * `["body", <offset>]`; a string with an unpaired surrogate is `string_unicode` and a number
 * that underflows to zero `number_underflow`, at the value's place, before any store sees them.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new RequestValidationError([{ type: 'missing', loc: ['body'], msg: 'Field required' }]), undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/, ".*" is not valid JSON$/s, '') : 'Invalid JSON';
      const offset = jsonErrorOffset(text);
      done(
        new RequestValidationError([
          { type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error', ctx: { error: reason } },
        ]),
        undefined,
      );
      return;
    }
    const issues = [...unpairedSurrogateIssues(text, value), ...underflowIssues(text)];
    if (issues.length > 0) done(new RequestValidationError(issues), undefined);
    else done(null, value);
  });
}
