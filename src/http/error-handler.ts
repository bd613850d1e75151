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

/** An error as an answer: status, body and the `Retry-After` seconds it carries, if any. */
export interface ErrorAnswer {
  status: number;
  body: { detail: unknown; code: string };
  retryAfterSeconds?: number | undefined;
  /** The log line a 5xx gets (its body never carries internals). */
  log?: 'store error' | 'unhandled error';
}

/**
 * The answer to an error of ours (validation, invalid input, a `FeatureStoreError`) or, for
 * anything else, the 500 that hides it. Shared by Fastify's error handler and the hot read path
 * (fast-read.ts), so both answer the same bytes.
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof RequestValidationError) return { status: 422, body: { detail: error.issues, code: 'VALIDATION_FAILED' } };
  if (error instanceof InvalidInputError) return { status: 422, body: { detail: issuesOf(error.problems), code: 'VALIDATION_FAILED' } };
  if (error instanceof FeatureStoreError && error.code !== 'CONFIG_INVALID') {
    return {
      status: error.status,
      body: { detail: error.message, code: error.code },
      retryAfterSeconds: error.retryAfterSeconds,
      ...(error.status >= 500 ? { log: 'store error' as const } : {}),
    };
  }
  return { status: 500, body: { detail: 'Internal server error', code: 'INTERNAL' }, log: 'unhandled error' };
}

/** Fastify's own errors: a body over the limit, or another typed 4xx. */
function frameworkAnswer(error: FastifyError): ErrorAnswer | undefined {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { detail: `Request body is larger than the limit of ${LIMITS.bodyBytes} bytes`, code: 'PAYLOAD_TOO_LARGE' } };
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500 && !(error instanceof FeatureStoreError)) {
    return { status, body: { detail: STATUS_CODES[status] ?? 'Bad Request', code: codeOfStatus(status) } };
  }
  return undefined;
}

/**
 * The one place where errors become HTTP responses. Status codes come from error types (or from
 * Fastify's own typed errors), never from message text; 5xx bodies never carry internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const own = errorAnswer(error);
    const answer = own.log === 'unhandled error' ? (frameworkAnswer(error) ?? own) : own;
    if (answer.log === 'store error') {
      request.log.error({ reqId: request.id, err: error, cause: (error as { cause?: unknown }).cause }, answer.log);
    } else if (answer.log !== undefined) {
      request.log.error({ reqId: request.id, err: error }, answer.log);
    }
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.code(answer.status).send(answer.body);
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
