import { randomUUID } from 'node:crypto';
import type { RequestHead } from './fast-answer.js';

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's `x-request-id` when it is sane (printable ASCII, ≤ 128 chars), else a UUID. */
export function requestId(req: Pick<RequestHead, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
