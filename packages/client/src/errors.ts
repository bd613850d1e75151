import type { ErrorCode, ValidationIssue } from './contract-types.js';

/**
 * An error response of the service: its HTTP status, the machine-readable `code` (branch on it,
 * never on `detail` text) and `detail` (a message, or for 422 the list of problems).
 */
export class FeatureStoreApiError extends Error {
  override readonly name: string = 'FeatureStoreApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'UNKNOWN',
    readonly detail: string | ValidationIssue[],
    /** `x-request-id` of the response, to find it in the service's log. */
    readonly requestId: string | undefined,
  ) {
    super(`${status} ${code}: ${typeof detail === 'string' ? detail : detail.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ')}`);
  }
}

/** 404 `NOT_FOUND`: no such record (or compute job). */
export class FeatureStoreNotFoundError extends FeatureStoreApiError {
  override readonly name: string = 'FeatureStoreNotFoundError';
}

/** No response within `timeoutMs` (the request was aborted; a write may still have been applied). */
export class FeatureStoreTimeoutError extends Error {
  override readonly name: string = 'FeatureStoreTimeoutError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${path}: no response within ${timeoutMs} ms`);
  }
}

/** Builds the typed error of a non-2xx response from its body (`{"detail", "code"}`). */
export function apiError(status: number, body: unknown, requestId: string | undefined): FeatureStoreApiError {
  const { detail, code } = (typeof body === 'object' && body !== null ? body : {}) as { detail?: unknown; code?: unknown };
  const text = typeof detail === 'string' || Array.isArray(detail) ? (detail as string | ValidationIssue[]) : `HTTP ${status}`;
  const errorCode = typeof code === 'string' ? (code as ErrorCode) : 'UNKNOWN';
  return status === 404
    ? new FeatureStoreNotFoundError(status, errorCode, text, requestId)
    : new FeatureStoreApiError(status, errorCode, text, requestId);
}
