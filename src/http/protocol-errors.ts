import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../contract/error-codes.js';
import type { Logger } from '../logger.js';

/**
 * Errors Fastify and Node answer before any route or hook runs: an undecodable or overlong URL,
 * and requests that are not HTTP at all. Each gets the API's error shape
 * `{"detail": …, "code": …}` instead of the framework's own body.
 */

/**
 * Headers on every response, in the order they are sent: the request id, no MIME sniffing
 * anywhere, and API answers are never cached. The one definition for Fastify's hook
 * (`standardHeaders`) and the fast path (fast-answer.ts), which sets them itself.
 */
export function eachStandardHeader(id: string, api: boolean, set: (name: string, value: string) => void): void {
  set('x-request-id', id);
  set('x-content-type-options', 'nosniff');
  if (api) set('cache-control', 'no-store');
}

export function standardHeaders(request: FastifyRequest, reply: FastifyReply): void {
  eachStandardHeader(request.id, request.url.startsWith('/api/'), (name, value) => void reply.header(name, value));
}

/** Fastify's `frameworkErrors`: routing failed before a route was found. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  standardHeaders(request, reply);
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send({ detail: 'Bad Request: the URL path is not valid percent-encoded UTF-8', code: 'BAD_REQUEST' });
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({ detail: 'URI Too Long', code: 'URI_TOO_LONG' });
  } else {
    request.log.error({ reqId: request.id, err: error }, 'routing error');
    void reply.code(500).send({ detail: 'Internal server error', code: 'INTERNAL' });
  }
}

const CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', detail: 'Request Timeout: the request was not received in time' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE', detail: 'Request Header Fields Too Large' },
};
const NOT_HTTP = { status: 400, code: 'BAD_REQUEST', detail: 'Bad Request: the request is not valid HTTP' } as const;

/**
 * Node's `clientError`: the connection sent something that is not HTTP, headers over the size
 * limit, or not the whole request in time. Answered on the raw socket, which is then closed.
 */
export function clientErrorHandler(logger: Logger): (error: ConnectionError, socket: Socket) => void {
  return (error, socket) => {
    // A reset or already closed connection has nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, code, detail } = CLIENT_ERRORS[error.code] ?? NOT_HTTP;
    logger.debug({ code: error.code, status }, 'client error');
    // A response already under way on this socket cannot be replaced, only cut.
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && current?.headersSent !== true) {
      const body = JSON.stringify({ detail, code });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy(error);
  };
}
