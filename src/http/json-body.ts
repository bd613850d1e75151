import type { FastifyInstance } from 'fastify';
import { RequestValidationError } from './request-validation-error.js';
import { jsonErrorOffset } from './json-error-offset.js';

/**
 * Parses every request body as JSON, whatever its content type (as FastAPI does), and reports
 * problems in FastAPI's shape: an empty body is `missing` at `["body"]`; malformed JSON,
 * including bare `NaN`, is `json_invalid` at `["body", <offset>]`.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new RequestValidationError([{ type: 'missing', loc: ['body'], msg: 'Field required' }]), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/, ".*" is not valid JSON$/s, '') : 'Invalid JSON';
      const offset = jsonErrorOffset(text);
      done(
        new RequestValidationError([
          { type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error', ctx: { error: reason } },
        ]),
        undefined,
      );
    }
  });
}
