import type { FastifyInstance } from 'fastify';
import { RequestValidationError } from '../errors.js';

const POSITION = /position (\d+)/;

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
      const reason = err instanceof Error ? err.message : 'Invalid JSON';
      const match = POSITION.exec(reason);
      const offset = match?.[1] === undefined ? text.length : Number(match[1]);
      done(
        new RequestValidationError([
          { type: 'json_invalid', loc: ['body', offset], msg: 'JSON decode error', ctx: { error: reason } },
        ]),
        undefined,
      );
    }
  });
}
