/**
 * The wire contract: request and response schemas, limits and error codes. This module imports
 * nothing from the server (a lint rule holds it), so a client package, the CLI or a UI can use
 * the same definitions the server validates with.
 */
export * from './error-codes.js';
export * from './limits.js';
export * from './lineage.js';
export * from './schemas.js';
export * from './batch-read-schemas.js';
export * from './delete-schemas.js';
export * from './merge-schemas.js';
export * from './compute-jobs.js';
export * from './category-list.js';
