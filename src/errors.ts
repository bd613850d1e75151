/**
 * Typed errors with stable codes. The HTTP layer maps `status` to the response in exactly one
 * place (http/error-handler.ts); nothing ever derives a status from message text.
 *
 * `expose` says whether `message` may be shown to the caller. Infrastructure errors carry a
 * generic public message and keep the detail for the log.
 */
import type { ErrorCode as WireErrorCode } from './contract/error-codes.js';

/** Wire codes (contract/error-codes.ts), plus codes that never reach a response. */
export type ErrorCode = WireErrorCode | 'CONFIG_INVALID';

export class FeatureStoreError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Characters of caller input quoted in an error message. */
const ECHO_LIMIT = 100;

/**
 * Caller input quoted in an error message, cut to about 100 characters (a refused 900 KB
 * `source` is not sent back whole, nor logged). Never splits a surrogate pair.
 */
export function echo(input: string): string {
  if (input.length <= ECHO_LIMIT) return input;
  const code = input.charCodeAt(ECHO_LIMIT - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? ECHO_LIMIT - 1 : ECHO_LIMIT;
  return `${input.slice(0, end)}… (${input.length} characters)`;
}

export class CategoryNotAllowedError extends FeatureStoreError {
  constructor(category: string, operation: 'read' | 'write' | 'delete', allowed: readonly string[]) {
    super(
      'CATEGORY_NOT_ALLOWED',
      400,
      `Category '${echo(category)}' is not allowed for ${operation} operations. Allowed categories: ${allowed.join(', ')}`,
    );
  }
}

export class InvalidEntityTypeError extends FeatureStoreError {
  constructor(entityType: string) {
    super('INVALID_ENTITY_TYPE', 400, `Invalid entity_type: ${echo(entityType)}`);
  }
}

/** API keys are on and the request carries no valid one. */
export class NotAuthenticatedError extends FeatureStoreError {
  constructor() {
    super('NOT_AUTHENTICATED', 401, 'Not authenticated');
  }
}

/** The request's API key may not do this. */
export class ForbiddenError extends FeatureStoreError {
  constructor(message: string) {
    super('FORBIDDEN', 403, message);
  }
}

export class ItemNotFoundError extends FeatureStoreError {
  constructor(entityValue: string, category: string) {
    super('NOT_FOUND', 404, `Item not found: ${entityValue}/${category}`);
  }
}

/** A point-in-time read (`as_of`) before the record's first write. */
export class NotYetWrittenError extends FeatureStoreError {
  constructor(entityValue: string, category: string, asOf: string, createdAt: string) {
    super('NOT_FOUND_AT_TIME', 404, `Item not found as of ${asOf}: ${entityValue}/${category} was first written at ${createdAt}`);
  }
}

/** A point-in-time read (`as_of`) older than every version still kept. */
export class VersionNotKeptError extends FeatureStoreError {
  constructor(entityValue: string, category: string, asOf: string, oldestKept: string) {
    super(
      'VERSION_NOT_KEPT',
      404,
      `Version not kept: ${entityValue}/${category} as of ${asOf} is older than the versions kept (the oldest kept was written at ${oldestKept})`,
    );
  }
}

/** No write of this compute job has been counted in the job statistics. */
export class ComputeJobNotFoundError extends FeatureStoreError {
  constructor(computeId: string) {
    super('COMPUTE_JOB_NOT_FOUND', 404, `Compute job not found: ${echo(computeId)}`);
  }
}

/** A write with an event time older than the stored record's: nothing changed. */
export class StaleWriteError extends FeatureStoreError {
  constructor(entityValue: string, category: string, storedEventTime: string, eventTime: string) {
    super(
      'STALE_WRITE',
      409,
      `A newer write exists for ${entityValue}/${category}: stored event_time ${storedEventTime} is later than ${eventTime}`,
    );
  }
}

/**
 * The input fields of the service's operations. The service names the field a problem is in;
 * only the HTTP layer knows where that field sits in a request (`["body","meta","source"]`).
 */
export type InputField =
  | 'source'
  | 'compute_id'
  | 'event_time'
  | 'entity_type'
  | 'entity_value'
  | 'entity_values'
  | 'category'
  | 'features'
  | 'feature_list'
  | 'cursor'
  | 'as_of';

/** One problem with one field of a service call. */
export interface InputProblem {
  field: InputField;
  /** Path inside the field's value (a feature name, then array indexes / object keys). */
  path?: (string | number)[];
  /** Machine-readable kind, as pydantic names its errors (`literal_error`, `too_deep`, …). */
  type: string;
  message: string;
}

/** A service call's input breaks a rule; every problem found is listed. Maps to 422. */
export class InvalidInputError extends FeatureStoreError {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    super('VALIDATION_FAILED', 422, problems.map((p) => `${[p.field, ...(p.path ?? [])].join('.')}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

/**
 * The backend cannot hold this key at all (DynamoDB: a partition key over 2,048 bytes of UTF-8).
 * A domain error: the HTTP layer reports it as a 422 at the field it names.
 */
export class KeyNotStorableError extends InvalidInputError {
  readonly field: 'entity_value' | 'category';
  constructor(field: 'entity_value' | 'category', message: string) {
    super([{ field, type: 'string_too_long', message }]);
    this.field = field;
  }
}

export class PayloadTooLargeError extends FeatureStoreError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', 413, message);
  }
}

/** The store cannot be reached or refused the request for infrastructure reasons. */
export class StoreUnavailableError extends FeatureStoreError {
  constructor(message = 'Feature store is temporarily unavailable', cause?: unknown) {
    super('STORE_UNAVAILABLE', 503, message, { cause, retryAfterSeconds: 1 });
  }
}

export class StoreThrottledError extends FeatureStoreError {
  constructor(cause?: unknown) {
    super('STORE_THROTTLED', 503, 'Feature store is throttling requests, retry later', {
      cause,
      retryAfterSeconds: 1,
    });
  }
}

export class TableMissingError extends FeatureStoreError {
  constructor(table: string, cause?: unknown) {
    super('STORE_TABLE_MISSING', 503, `Feature store table '${table}' does not exist`, {
      cause,
      retryAfterSeconds: 30,
    });
  }
}

export class ConfigError extends FeatureStoreError {
  constructor(message: string) {
    super('CONFIG_INVALID', 500, message);
  }
}
