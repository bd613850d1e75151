import type { TestBackend } from './backend.js';
import { dynamodbDynaliteBackend, dynamodbMotoBackend } from './dynamodb-backend.js';
import { sqliteBackend } from './sqlite-backend.js';

/**
 * Every backend the universal suites run against, each on a real server or file. Adding a
 * backend to the service means adding its test backend here; the store contract
 * (test/store/contract.ts) then runs on every backend that records events, and the HTTP suite
 * (test/http/api-suite.ts) on all of them.
 */
export const BACKENDS: readonly TestBackend[] = [sqliteBackend, dynamodbMotoBackend, dynamodbDynaliteBackend];

/** The backends that record change events atomically with writes (the full store contract). */
export const EVENT_BACKENDS: readonly TestBackend[] = BACKENDS.filter((b) => b.events);
