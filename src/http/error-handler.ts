import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { ErrorCode } from '../contract/error-codes.js';
import { LIMITS } from '../contract/limits.js';
import { FeatureStoreError, InvalidInputError } from '../errors.js';
import { issuesOf, RequestValidationError } from './request-validation-error.js';

/** Fastify's own 4xx errors that have a code of ours; any other 4xx is `BAD_REQUEST`. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 404) return 'ROUTE_NOT_FOUND';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return 'BAD_REQUEST';
}

/**
 * The one place where errors become HTTP responses. Status codes come from error types (or from
 * Fastify's own typed errors), never from message text; 5xx bodies never carry internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof RequestValidationError) {
      return reply.code(422).send({ detail: error.issues, code: 'VALIDATION_FAILED' });
    }
    if (error instanceof InvalidInputError) {
      return reply.code(422).send({ detail: issuesOf(error.problems), code: 'VALIDATION_FAILED' });
    }
    if (error instanceof FeatureStoreError && error.code !== 'CONFIG_INVALID') {
      if (error.status >= 500) request.log.error({ reqId: request.id, err: error, cause: error.cause }, 'store error');
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.status).send({ detail: error.message, code: error.code });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ detail: `Request body is larger than the limit of ${LIMITS.bodyBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' });
    }
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: STATUS_CODES[status] ?? 'Bad Request', code: codeOfStatus(status) });
    }
    request.log.error({ reqId: request.id, err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Internal server error', code: 'INTERNAL' });
  });

  // Unknown path → 404; known path with another method → 405 with `Allow`.
  const known = FindMyWay({ ignoreTrailingSlash: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // The CORS preflight answers OPTIONS on every path; it is no method of a resource.
      if (method.toUpperCase() === 'OPTIONS') continue;
      try {
        known.on(method.toUpperCase() as HTTPMethod, route.url, () => undefined);
      } catch {
        // The same route added twice (e.g. HEAD): already known.
      }
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    // A route of this method matched but found nothing (an unknown file under `/docs/static/`).
    if (known.find(request.method as HTTPMethod, path) !== null) {
      return reply.code(404).send({ detail: 'Not Found', code: 'ROUTE_NOT_FOUND' });
    }
    const allow = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter(
      (m) => m !== request.method && known.find(m as HTTPMethod, path) !== null,
    );
    if (allow.length > 0) {
      return reply.code(405).header('allow', allow.join(', ')).send({ detail: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' });
    }
    return reply.code(404).send({ detail: 'Not Found', code: 'ROUTE_NOT_FOUND' });
  });
}
