import type { RequestHead } from './fast-answer.js';

/**
 * The lane's request reader (lane.ts): a strict subset of HTTP/1.1 that node's parser (llhttp,
 * strict mode) reads the same way. A request is read only when it is whole in the buffer (head
 * and Content-Length body) and has nothing that needs node's parser: anything else is
 * `undefined`, and the lane hands the connection to node:http, which reads the same bytes.
 *
 * Taken: `GET` or `POST`, an origin-form target of RFC 3986 path and query characters,
 * `HTTP/1.1`, CRLF line ends, header names that are tokens, values of visible ASCII, space and
 * tab with no trailing whitespace, exactly one `Host`, at most one of each header the answer
 * depends on, `Connection` absent, `keep-alive` or `close`, and for a POST exactly one
 * Content-Length of digits (a GET has none). Handed over: other methods (HEAD too), HTTP/1.0,
 * absolute-form or `*` targets, `Transfer-Encoding`, `Expect`, `Upgrade`, obs-fold, bare LF or
 * CR, control or non-ASCII characters, a head over node's `maxHeaderSize`, more than
 * `MAX_HEADERS` header lines, and any request not complete in what has arrived.
 */

/** A request the lane may answer: its head, whether it asked to close, its body and its size. */
export interface LaneRequest extends RequestHead {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Partial<Record<TrackedHeader, string>>>;
  /** `Connection: close` was sent: the connection ends after the answer. */
  readonly close: boolean;
  /** The body as UTF-8 text ('' for a GET). */
  readonly body: string;
  /** Bytes of the buffer the request took (head and body). */
  readonly size: number;
}

/** Headers the fast paths read or that change how node:http reads a request. */
type TrackedHeader = 'host' | 'content-length' | 'content-type' | 'authorization' | 'x-request-id' | 'connection';
type Tracked = Partial<Record<TrackedHeader, string>>;

/**
 * What a header line does to the request: `refuse` (its presence alone sends the request to
 * node's parser: `Transfer-Encoding`, `Expect`, `Upgrade`), `skip` (a header no answer depends
 * on), or the tracked header's name. Written as a switch with literal names: stores to named
 * properties, where a Set lookup and a computed key cost a string hash, an internalization and
 * a megamorphic store per header.
 */
function headerRole(lower: string): TrackedHeader | 'refuse' | 'skip' {
  switch (lower) {
    case 'host':
    case 'content-length':
    case 'content-type':
    case 'authorization':
    case 'x-request-id':
    case 'connection':
      return lower;
    case 'transfer-encoding':
    case 'expect':
    case 'upgrade':
      return 'refuse';
    default:
      return 'skip';
  }
}

/** Lengths of the names `headerRole` knows: any other name is skipped without lower-casing it. */
const NAME_LENGTHS = new Set(['host', 'content-length', 'content-type', 'authorization', 'x-request-id', 'connection', 'transfer-encoding', 'expect', 'upgrade'].map((n) => n.length));

/** Sets a tracked header once; false for a repeat. */
function track(headers: Tracked, role: TrackedHeader, value: string): boolean {
  switch (role) {
    case 'host':
      if (headers.host !== undefined) return false;
      headers.host = value;
      return true;
    case 'content-length':
      if (headers['content-length'] !== undefined) return false;
      headers['content-length'] = value;
      return true;
    case 'content-type':
      if (headers['content-type'] !== undefined) return false;
      headers['content-type'] = value;
      return true;
    case 'authorization':
      if (headers.authorization !== undefined) return false;
      headers.authorization = value;
      return true;
    case 'x-request-id':
      if (headers['x-request-id'] !== undefined) return false;
      headers['x-request-id'] = value;
      return true;
    case 'connection':
      if (headers.connection !== undefined) return false;
      headers.connection = value;
      return true;
  }
}

/** Well under node's default `maxHeadersCount` (2,000); a request with more goes to node. */
export const MAX_HEADERS = 100;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const VERSION = ' HTTP/1.1';
/** An origin-form target: RFC 3986 path and query characters. */
const TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value after its leading whitespace: visible ASCII, space and tab, not ending in whitespace. */
const VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;
const DIGITS = /^\d{1,9}$/;

/** The first request in `buffer` when the lane can answer it as node:http would read it, else undefined. */
export function readLaneRequest(buffer: Buffer, maxHeaderSize: number): LaneRequest | undefined {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd === -1 || headEnd + 4 > maxHeaderSize) return undefined;
  const head = buffer.toString('latin1', 0, headEnd);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = head.length;
  const method = head.startsWith('GET /') ? 'GET' : head.startsWith('POST /') ? 'POST' : undefined;
  if (method === undefined || head.lastIndexOf(VERSION, lineEnd) !== lineEnd - VERSION.length) return undefined;
  const url = head.slice(method.length + 1, lineEnd - VERSION.length);
  if (!TARGET.test(url)) return undefined;
  const headers: Tracked = {};
  let count = 0;
  for (let from = lineEnd + 2; from < head.length; from = lineEnd + 2) {
    lineEnd = head.indexOf('\r\n', from);
    if (lineEnd === -1) lineEnd = head.length;
    if (++count > MAX_HEADERS) return undefined;
    const colon = head.indexOf(':', from);
    if (colon <= from || colon >= lineEnd) return undefined;
    const name = head.slice(from, colon);
    let start = colon + 1;
    while (head.charCodeAt(start) === 32 || head.charCodeAt(start) === 9) start++;
    const value = head.slice(start, lineEnd);
    if (!TOKEN.test(name) || !VALUE.test(value)) return undefined;
    if (!NAME_LENGTHS.has(name.length)) continue;
    const role = headerRole(name.toLowerCase());
    if (role === 'refuse') return undefined;
    if (role !== 'skip' && !track(headers, role, value)) return undefined;
  }
  if (headers.host === undefined) return undefined;
  const connection = headers.connection?.toLowerCase();
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') return undefined;
  const length = headers['content-length'];
  let size = headEnd + 4;
  let body = '';
  if (method === 'GET') {
    if (length !== undefined) return undefined;
  } else {
    if (length === undefined || !DIGITS.test(length)) return undefined;
    const end = size + Number(length);
    if (end > buffer.length) return undefined;
    body = buffer.toString('utf8', size, end);
    size = end;
  }
  return { method, url, headers, close: connection === 'close', body, size };
}
