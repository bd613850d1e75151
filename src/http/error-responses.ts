import type { TSchema } from 'typebox';
import { ErrorResponse, ValidationErrorResponse } from '../contract/schemas.js';

/** Response schemas of a route's error statuses for OpenAPI; 422 and 500 are always possible. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { 422: ValidationErrorResponse, 500: ErrorResponse };
  for (const s of statuses) out[s] = ErrorResponse;
  return out;
}
