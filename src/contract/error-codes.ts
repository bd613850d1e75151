/**
 * The machine-readable `code` every error response carries beside `detail`. Codes are stable:
 * clients branch on them, never on `detail` text (which stays as the old service worded it).
 * Adding a code is compatible; renaming or removing one is not.
 */
export const ERROR_CODES = {
  /** 422: the request does not match its schema or a rule on a field; `detail` lists each problem. */
  VALIDATION_FAILED: 422,
  /** 400: the request is not well-formed HTTP or its URL cannot be decoded (bad percent-encoding, invalid UTF-8). */
  BAD_REQUEST: 400,
  /** 400: the category is not on the allow-list for this operation. */
  CATEGORY_NOT_ALLOWED: 400,
  /** 400: the `entity_type` query parameter names no configured entity type. */
  INVALID_ENTITY_TYPE: 400,
  /** 401 with `WWW-Authenticate: Bearer`: API keys are on and the request has no valid key. */
  NOT_AUTHENTICATED: 401,
  /** 403: the API key lacks the scope, or may not touch the category, the request needs. */
  FORBIDDEN: 403,
  /** 404: no such record. */
  NOT_FOUND: 404,
  /** 404: a point-in-time read (`as_of`) before the record's first write. */
  NOT_FOUND_AT_TIME: 404,
  /** 404: a point-in-time read (`as_of`) older than every version still kept (`VERSIONS_KEPT`). */
  VERSION_NOT_KEPT: 404,
  /** 404: no write of this compute job has been counted (yet: job statistics follow the writes within seconds). */
  COMPUTE_JOB_NOT_FOUND: 404,
  /** 404: no such path. */
  ROUTE_NOT_FOUND: 404,
  /** 405: the path exists with other methods (listed in `Allow`). */
  METHOD_NOT_ALLOWED: 405,
  /** 408: the client did not send the whole request (headers and body) in time; the connection is closed. */
  REQUEST_TIMEOUT: 408,
  /** 409: a write's event time is older than the stored record's; nothing changed. */
  STALE_WRITE: 409,
  /** 413: the body, or the record it would store, is over the limit. */
  PAYLOAD_TOO_LARGE: 413,
  /** 414: a path segment is longer than any valid parameter (entity values are at most 1,024 characters). */
  URI_TOO_LONG: 414,
  /** 415: a request body that is not JSON (`application/json` or `…/…+json`); blocks cross-site form and `text/plain` posts. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** 429 with `Retry-After`: this API key (or, without keys, this client address) sent more than `RATE_LIMIT_PER_SECOND` requests in a second. */
  RATE_LIMITED: 429,
  /** 431: the request line and headers are larger than the server accepts (16 KiB); the connection is closed. */
  HEADERS_TOO_LARGE: 431,
  /** 503 with `Retry-After`: the store cannot be reached. */
  STORE_UNAVAILABLE: 503,
  /** 503 with `Retry-After`: the store is throttling. */
  STORE_THROTTLED: 503,
  /** 503 with `Retry-After`: a configured table does not exist. */
  STORE_TABLE_MISSING: 503,
  /** 503 with `Retry-After`: the service is shutting down. */
  SERVICE_UNAVAILABLE: 503,
  /** 503 with `Retry-After`: no response within `REQUEST_TIMEOUT_MS`; a write may still have been applied. */
  RESPONSE_TIMEOUT: 503,
  /** 503 with `Retry-After`: the event loop is lagging (overload); the request was refused instead of queued. */
  SERVICE_OVERLOADED: 503,
  /** 500: an unexpected failure; details are in the service's log under the request id. */
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];
