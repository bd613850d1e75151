/**
 * The wire shapes, taken from the service's contract module (src/contract) so that the client
 * and the server validate against one definition. Type-only: nothing here exists at run time,
 * so dist/index.js imports nothing outside this package. The build emits the contract's
 * declarations into dist/contract/ and points these imports there (scripts/build-client.mjs).
 */
export type {
  BatchReadResponse,
  CategoryListResponse,
  ComputeHistoryResponse,
  ComputeJobResponse,
  DeleteCategoryResponse,
  DeleteEntityResponse,
  ErrorCode,
  HealthResponse,
  MergeRequest,
  MultiReadResponse,
  RecordResponse,
  ValidationIssue,
  WriteRequest,
  WriteResponse,
} from '../../../src/contract/index.js';

import type { ComputeJobResponse, ComputeJobStatsResponse } from '../../../src/contract/index.js';

/** One record of a by-compute-id page. */
export type ComputeJobRecord = ComputeJobResponse['records'][number];

/**
 * `GET /api/v1/compute-jobs/{compute_id}`: the statistics of one compute job (lineage, job
 * analytics). `records_written` counts every write by the job (rewrites included),
 * `records_current` the records whose latest compute_id is still this one.
 */
export type ComputeJobStats = ComputeJobStatsResponse;
