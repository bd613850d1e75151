/**
 * Typed errors with stable codes. The HTTP layer maps `status` to the response in exactly one
 * place (http/error-handler.ts); nothing ever derives a status from message text.
 *
 * `expose` says whether `message` may be shown to the caller. Infrastructure errors carry a
 * generic public message and keep the detail for the log.
 */
export type ErrorCode =
  | 'CATEGORY_NOT_ALLOWED'
  | 'INVALID_ENTITY_TYPE'
  | 'NOT_FOUND'
  | 'VALIDATION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'STORE_UNAVAILABLE'
  | 'STORE_THROTTLED'
  | 'STORE_TABLE_MISSING'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

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

export class CategoryNotAllowedError extends FeatureStoreError {
  constructor(category: string, operation: 'read' | 'write', allowed: readonly string[]) {
    super(
      'CATEGORY_NOT_ALLOWED',
      400,
      `Category '${category}' is not allowed for ${operation} operations. Allowed categories: ${allowed.join(', ')}`,
    );
  }
}

export class InvalidEntityTypeError extends FeatureStoreError {
  constructor(entityType: string) {
    super('INVALID_ENTITY_TYPE', 400, `Invalid entity_type: ${entityType}`);
  }
}

export class ItemNotFoundError extends FeatureStoreError {
  constructor(entityValue: string, category: string) {
    super('NOT_FOUND', 404, `Item not found: ${entityValue}/${category}`);
  }
}

/** One problem in a request, in FastAPI's 422 shape. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  ctx?: Record<string, string>;
}

export class RequestValidationError extends FeatureStoreError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super('VALIDATION_FAILED', 422, issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.issues = issues;
  }
}

/**
 * The backend cannot hold this key at all (DynamoDB: a partition key over 2,048 bytes of UTF-8).
 * A domain error: the HTTP layer reports it as a 422 at the field it names.
 */
export class KeyNotStorableError extends FeatureStoreError {
  readonly field: 'entity_value' | 'category';
  constructor(field: 'entity_value' | 'category', message: string) {
    super('VALIDATION_FAILED', 422, message);
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
