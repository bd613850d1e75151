import {
  FeatureStoreError,
  StoreThrottledError,
  StoreUnavailableError,
  TableMissingError,
} from '../../errors.js';

/**
 * SDK errors → the store's typed errors, decided by the error's `name` (the DynamoDB error type)
 * or Node's network error `code`, never by message text. Anything not listed here (a
 * ValidationException, a bug) is passed through unchanged and ends as a 500.
 */
const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** Access, credentials, service-side and transport failures: the store cannot serve now. */
const UNAVAILABLE = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'TokenProviderError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
  // A transaction that overlapped another one on the same items beyond the SDK's retries.
  'TransactionInProgressException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

export const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';

export const TRANSACTION_CANCELED = 'TransactionCanceledException';

/** One entry of `TransactionCanceledException.CancellationReasons`, aligned to the actions. */
export interface CancelReason {
  /** `None`, `ConditionalCheckFailed`, `TransactionConflict`, `ThrottlingError`, … */
  code: string | undefined;
  /** The item before the transaction (raw attribute values) when the action asked for ALL_OLD. */
  item: unknown;
}

/**
 * The cancellation reasons of a cancelled transaction, or undefined when `err` is not one.
 * Decided by the error name and the structured reasons, never by message text.
 */
export function cancelReasons(err: unknown): CancelReason[] | undefined {
  if (errorName(err) !== TRANSACTION_CANCELED) return undefined;
  const reasons: unknown = (err as { CancellationReasons?: unknown }).CancellationReasons;
  if (!Array.isArray(reasons)) return [];
  return (reasons as unknown[]).map((r) => {
    const entry = (typeof r === 'object' && r !== null ? r : {}) as { Code?: unknown; Item?: unknown };
    return { code: typeof entry.Code === 'string' ? entry.Code : undefined, item: entry.Item };
  });
}

export function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === CONDITIONAL_CHECK_FAILED;
}

interface SdkErrorShape {
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The typed error for an SDK failure on `table`, or `err` itself when it is not infrastructure. */
export function translateError(err: unknown, table: string): unknown {
  if (!(err instanceof Error) || err instanceof FeatureStoreError) return err;
  const shape = err as Error & SdkErrorShape;
  if (THROTTLED.has(err.name)) return new StoreThrottledError(err);
  const reasons = cancelReasons(err);
  if (reasons?.some((r) => r.code === 'ThrottlingError' || r.code === 'ProvisionedThroughputExceeded')) {
    return new StoreThrottledError(err);
  }
  if (err.name === 'ResourceNotFoundException') return new TableMissingError(table, err);
  if (UNAVAILABLE.has(err.name)) return new StoreUnavailableError(undefined, err);
  if (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) return new StoreUnavailableError(undefined, err);
  const status = shape.$metadata?.httpStatusCode;
  if (shape.$fault === 'server' || (typeof status === 'number' && status >= 500)) {
    return new StoreUnavailableError(undefined, err);
  }
  return err;
}
