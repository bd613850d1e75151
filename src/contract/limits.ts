/**
 * Request limits that are part of the API contract, not tuning knobs. The server enforces them;
 * clients may check them before sending.
 */
export const LIMITS = Object.freeze({
  bodyBytes: 1024 * 1024,
  entityValueLength: 1024,
  featureCount: 2500,
  nestingDepth: 32,
  /** Multi-read keys per request (one BatchGetItem holds 100 keys). */
  featureListEntries: 1000,
  /** Characters of `meta.compute_id`. */
  computeIdLength: 256,
  /** Records per page of the by-compute-id query (default 100). */
  computeJobPage: 1000,
});
