import type { ComputeJobPosition } from '../service/compute-jobs.js';
import type { JobListPosition } from '../service/job-stats.js';
import { RequestValidationError } from './request-validation-error.js';

/**
 * The by-compute-id query's paging cursor on the wire: base64url of a JSON array, `[entity type]`
 * (start of that entity type) or `[entity type, entity value, category]` (after that record).
 * Clients treat it as opaque; the format may change between versions.
 */
export function encodeCursor(position: ComputeJobPosition): string {
  return encodeParts(position.after === undefined ? [position.entityType] : [position.entityType, position.after.entityValue, position.after.category]);
}

/** The position a cursor names; a 422 at `["query","cursor"]` for anything this code did not issue. */
export function decodeCursor(cursor: string): ComputeJobPosition {
  const parts = decodeParts(cursor);
  const [entityType, entityValue, category] = parts;
  if (parts.length === 1 && entityType !== undefined) return { entityType };
  if (parts.length === 3 && entityType !== undefined && entityValue !== undefined && category !== undefined) {
    return { entityType, after: { entityValue, category } };
  }
  return notIssued();
}

/** The job list's cursor: `["jobs", last write time, compute id]` of the last job of a page, same encoding. */
export function encodeJobCursor(position: JobListPosition): string {
  return encodeParts(['jobs', position.lastWriteAt, position.computeId]);
}

export function decodeJobCursor(cursor: string): JobListPosition {
  const [tag, lastWriteAt, computeId, ...rest] = decodeParts(cursor);
  if (tag === 'jobs' && lastWriteAt !== undefined && computeId !== undefined && rest.length === 0) return { lastWriteAt, computeId };
  return notIssued();
}

function encodeParts(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The non-empty strings a cursor holds; a 422 for anything else. */
function decodeParts(cursor: string): string[] {
  let parts: unknown;
  try {
    parts = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parts = undefined;
  }
  if (Array.isArray(parts) && parts.every((p) => typeof p === 'string' && p !== '')) return parts as string[];
  return notIssued();
}

function notIssued(): never {
  throw new RequestValidationError([{ type: 'value_error', loc: ['query', 'cursor'], msg: 'Value error, not a cursor this endpoint issued' }]);
}
