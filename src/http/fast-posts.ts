import { BatchReadRequest } from '../contract/batch-read-schemas.js';
import { LIMITS } from '../contract/limits.js';
import { MultiReadRequest, WriteRequest } from '../contract/schemas.js';
import type { Scope } from '../auth/api-keys.js';
import { categoryRefusal, sourceRefusal } from './access.js';
import { FastAnswer, scopedKey, type FastPathDeps, type FastTake, type RequestHead } from './fast-answer.js';
import { isJsonMediaType, parseJsonBody, parseJsonBodyWith } from './json-body.js';
import { parsePlainBatchRead, parsePlainMultiRead } from './json-plain.js';
import { requestId } from './request-id.js';
import type { ResponseSink } from './response-sink.js';
import { RequestValidationError } from './request-validation-error.js';
import { batchReadJson, multiReadJson } from './response-json.js';
import { batchReadTextJson, multiReadTextJson } from './batch-text-json.js';
import { categoriesOfFeatureList, writeCategories, writeSource, type AccessBody } from './route-access.js';
import { writeResponse } from './responses.js';
import { withMetaProblems, writeInput } from './routes/items.js';
import { bodyValidator } from './validation.js';

/**
 * The multi-read `POST /api/v1/get/items`, the batch read `POST /api/v1/get/items/batch` and the
 * write `POST /api/v1/items` on the fast path (see fast-read.ts for the contract). Whether to
 * take a request is decided from its head alone (exact path, a JSON content type, a
 * Content-Length within the body limit, a key with the route's scope); once taken, its body is
 * read, parsed, validated and refused here with the same answers, in the same order, that
 * Fastify's parser, validation, access hooks and route give.
 */

type Handler = (body: unknown, answer: FastAnswer, deps: FastPathDeps) => void;

interface PostRoute {
  scope: Scope;
  /** The body's text as JSON, or its 422 (json-body.ts); the reads' usual bodies without `JSON.parse` (json-plain.ts). */
  parse: (text: string) => { value: unknown } | RequestValidationError;
  validate: (value: unknown) => RequestValidationError | undefined;
  /** The categories a valid body touches and the source it claims (route-access.ts). */
  claims: (body: AccessBody) => { categories: string[]; source?: { value: string; loc: (string | number)[] } };
  /** A write's 422 also lists the problems of its `meta` (routes/items.ts `withMetaProblems`). */
  invalid?: (error: RequestValidationError, body: unknown, deps: FastPathDeps) => Error;
  handle: Handler;
}

const multiRead: Handler = (body, answer, { service }) => {
  const { data } = body as MultiReadRequest;
  const input = { entityType: data.entity_type, entityValue: data.entity_value, featureList: data.feature_list };
  const now = service.readsNow;
  const text = now?.readFeaturesText;
  // As text where the store reads stored text (SQLite): no record objects (batch-text-json.ts).
  if (text !== undefined) answer.settle(() => multiReadTextJson(text(input)));
  else if (now !== undefined) answer.settle(() => multiReadJson(now.readFeatures(input)));
  else answer.settleLater(service.readFeatures(input), multiReadJson);
};

const batchRead: Handler = (body, answer, { service }) => {
  const { data } = body as BatchReadRequest;
  const input = { entityType: data.entity_type, entityValues: data.entity_values, featureList: data.feature_list };
  const now = service.readsNow;
  const text = now?.readFeaturesBatchText;
  // As text where the store reads stored text (SQLite): no record objects (batch-text-json.ts).
  if (text !== undefined) answer.settle(() => batchReadTextJson(text(input)));
  else if (now !== undefined) answer.settle(() => batchReadJson(now.readFeaturesBatch(input)));
  else answer.settleLater(service.readFeaturesBatch(input), batchReadJson);
};

const write: Handler = (body, answer, { service }) => {
  answer.settleLater(service.writeCategory(writeInput(body as WriteRequest)), (out) => JSON.stringify(writeResponse(out)));
};

const featureListClaims = (body: AccessBody) => ({ categories: categoriesOfFeatureList(body.data?.feature_list) });

const ROUTES = new Map<string, PostRoute>([
  ['/api/v1/get/items', { scope: 'read', parse: parseJsonBodyWith(parsePlainMultiRead), validate: bodyValidator(MultiReadRequest), claims: featureListClaims, handle: multiRead }],
  ['/api/v1/get/items/batch', { scope: 'read', parse: parseJsonBodyWith(parsePlainBatchRead), validate: bodyValidator(BatchReadRequest), claims: featureListClaims, handle: batchRead }],
  [
    '/api/v1/items',
    {
      scope: 'write',
      parse: parseJsonBody,
      validate: bodyValidator(WriteRequest),
      claims: (body) => ({ categories: writeCategories(body), source: writeSource(body) }),
      invalid: (error, body, { service }) => withMetaProblems(error, body, service),
      handle: write,
    },
  ],
]);

/**
 * The POST fast paths: decides from the head, and once taken the body (`complete`) is parsed,
 * validated and checked here. The caller reads the body (node:http's stream, or the lane's buffer).
 */
export function fastPosts(deps: FastPathDeps): (req: RequestHead, sink: ResponseSink) => FastTake {
  return (req, sink) => {
    const url = req.url as string;
    const route = ROUTES.get(url);
    if (route === undefined || deps.overloaded() || deps.closing()) return undefined;
    const { 'content-type': type, 'content-length': length, 'transfer-encoding': encoding } = req.headers;
    if (typeof type !== 'string' || !isJsonMediaType(type) || typeof length !== 'string' || encoding !== undefined) return undefined;
    if (!/^\d{1,9}$/.test(length) || Number(length) > LIMITS.bodyBytes) return undefined;
    const apiKey = scopedKey(deps, req, route.scope);
    if (apiKey === undefined) return undefined;
    if (apiKey !== null) deps.metrics.apiKeyRequests.inc({ key_id: apiKey.id });
    const answer = new FastAnswer(sink, requestId(req), 'POST', url, deps);
    return {
      answer,
      complete: (text) => {
        const parsed = route.parse(text);
        if (parsed instanceof RequestValidationError) return answer.failed(parsed);
        const body = parsed.value;
        const invalid = route.validate(body);
        if (apiKey !== null) {
          // As the access hook: categories once the body is valid, the claimed source in any case.
          const claims = route.claims(body ?? {});
          const refused = (invalid === undefined ? categoryRefusal(apiKey, claims.categories) : undefined) ?? (claims.source === undefined ? undefined : sourceRefusal(apiKey, claims.source));
          if (refused !== undefined) return answer.failed(refused);
        }
        if (invalid !== undefined) return answer.failed(route.invalid?.(invalid, body, deps) ?? invalid);
        route.handle(body, answer, deps);
      },
    };
  };
}
