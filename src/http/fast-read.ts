import type { IncomingMessage, ServerResponse } from 'node:http';
import { Compile } from 'typebox/compile';
import { ReadParams } from '../contract/schemas.js';
import { categoryRefusal } from './access.js';
import { FastAnswer, scopedKey, type FastPathDeps, type FastTake, type RequestHead } from './fast-answer.js';
import { fastPosts } from './fast-posts.js';
import { requestId } from './request-id.js';
import { recordJson } from './response-json.js';
import { ServerResponseSink, type ResponseSink } from './response-sink.js';
import { DEFAULT_ENTITY_TYPE } from './routes/items.js';

/**
 * The hot reads answered without Fastify's request pipeline: the one-category read
 * `GET /api/v1/get/item/{entity_value}/{category}` (optionally `?entity_type=…`) here, the
 * multi-read, batch read and write in fast-posts.ts. Requests come from the lane (lane.ts),
 * which reads them on the connection, or from node:http on a connection the lane handed over
 * (`nodeFastPaths`). A prediction service's read costs about two thirds of the CPU this way
 * (docs/performance.md), and the lane takes another quarter off (decision record 5).
 *
 * Contract: for every request a fast path answers, the status, headers, body bytes, metrics,
 * logs and deadline are those of the Fastify route and hooks (routes/, app.ts); the API tests
 * run through it. It answers only what it is sure of: a URL in plain form (no percent-encoding,
 * trailing slash or other query parameters), valid parameters, and with keys on a key with the
 * route's scope. Anything else goes to Fastify, which answers as always. With CORS, a rate
 * limit, StatsD or debug logging configured the fast paths are off (app.ts), and they step
 * aside while the overload guard refuses requests and once the server is closing.
 */

const PREFIX = '/api/v1/get/item/';
const ROUTE = '/api/v1/get/item/:entity_value/:category';
const ENTITY_TYPE_QUERY = 'entity_type=';
/** Characters that mean the URL is not in plain form (encoded, or a query with more in it). */
const NOT_PLAIN = /[%+&#]/;
const checkParams = Compile(ReadParams);

/** A read's key when the URL is in plain form and valid, else undefined (exported for tests). */
export function fastReadKey(url: string): { entityType: string; entityValue: string; category: string } | undefined {
  if (!url.startsWith(PREFIX) || NOT_PLAIN.test(url)) return undefined;
  const q = url.indexOf('?', PREFIX.length);
  const path = q === -1 ? url.slice(PREFIX.length) : url.slice(PREFIX.length, q);
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined;
  let entityType = DEFAULT_ENTITY_TYPE;
  if (q !== -1) {
    const query = url.slice(q + 1);
    if (!query.startsWith(ENTITY_TYPE_QUERY) || query.length === ENTITY_TYPE_QUERY.length) return undefined;
    entityType = query.slice(ENTITY_TYPE_QUERY.length);
  }
  const params = { entity_value: path.slice(0, slash), category: path.slice(slash + 1) };
  if (!checkParams.Check(params)) return undefined;
  return { entityType, entityValue: params.entity_value, category: params.category };
}

/**
 * The fast paths as one decision, for a request node:http read or the lane (lane.ts) read: a
 * GET is answered (or being answered) when taken; a POST taken on its head wants its body.
 */
export function fastPaths(deps: FastPathDeps): (req: RequestHead, sink: ResponseSink) => FastTake {
  const posts = fastPosts(deps);
  return (req, sink) => {
    if (req.method === 'POST') return posts(req, sink);
    if (req.method !== 'GET') return undefined;
    const key = fastReadKey(req.url as string);
    if (key === undefined || deps.overloaded() || deps.closing()) return undefined;
    const apiKey = scopedKey(deps, req, 'read');
    if (apiKey === undefined || (apiKey !== null && categoryRefusal(apiKey, [key.category]) !== undefined)) return undefined;
    if (apiKey !== null) deps.metrics.apiKeyRequests.inc({ key_id: apiKey.id });
    const answer = new FastAnswer(sink, requestId(req), 'GET', ROUTE, deps);
    const now = deps.service.readsNow;
    if (now !== undefined) answer.settle(() => recordJson(now.readCategory(key)));
    else answer.settleLater(deps.service.readCategory(key), recordJson);
    return 'answered';
  };
}

/** The fast paths as a request listener in front of Fastify's: true when one took the request. */
export function nodeFastPaths(take: ReturnType<typeof fastPaths>): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const taken = take(req, new ServerResponseSink(res));
    if (taken === undefined) return false;
    if (taken === 'answered') return true;
    // The body may take a while to arrive: the deadline runs from the head, as on Fastify's path.
    taken.answer.waiting();
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('error', () => taken.answer.dropped());
    req.on('end', () => taken.complete(text));
    return true;
  };
}
