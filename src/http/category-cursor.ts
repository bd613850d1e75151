import type { CategoryListPosition } from '../store/ports.js';
import { RequestValidationError } from './request-validation-error.js';

/**
 * The by-category listing's cursor on the wire: base64url of `[entity type, entity value,
 * category]`, the backend's position. Opaque to clients; the entity type in it ties it to its
 * query. The position names a record key, so it reveals no more than the page did.
 */
export function encodeCategoryCursor(entityType: string, position: CategoryListPosition): string {
  return Buffer.from(JSON.stringify([entityType, position.entityValue, position.category]), 'utf8').toString('base64url');
}

/** The position a cursor names; a 422 at `["query","cursor"]` for one this query did not issue. */
export function decodeCategoryCursor(entityType: string, cursor: string): CategoryListPosition {
  let parts: unknown;
  try {
    parts = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parts = undefined;
  }
  if (Array.isArray(parts) && parts.length === 3 && parts.every((p) => typeof p === 'string' && p !== '') && parts[0] === entityType) {
    return { entityValue: parts[1] as string, category: parts[2] as string };
  }
  throw new RequestValidationError([{ type: 'value_error', loc: ['query', 'cursor'], msg: 'Value error, not a cursor this query issued' }]);
}
