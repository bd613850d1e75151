/**
 * @feature-store/client: a typed client of the feature-store HTTP API (README "Client").
 * The wire types are the service's contract module's own (contract-types.ts).
 */
export { createClient } from './client.js';
export type {
  ByCategoryOptions,
  ByComputeIdOptions,
  ClientOptions,
  DeleteInput,
  FeatureStoreClient,
  MergeInput,
  ReadBatchInput,
  ReadFeaturesInput,
  RecordRef,
  WriteInput,
} from './client.js';
export { FeatureStoreApiError, FeatureStoreNotFoundError, FeatureStoreTimeoutError } from './errors.js';
export type { RetryInfo } from './transport.js';
export { parseRetryAfter } from './retry.js';
export type * from './contract-types.js';
