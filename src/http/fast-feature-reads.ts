import type { IncomingMessage, ServerResponse } from 'node:http';
import { BatchReadRequest } from '../contract/batch-read-schemas.js';
import { LIMITS } from '../contract/limits.js';
import { MultiReadRequest } from '../contract/schemas.js';
import { categoryRefusal } from './access.js';
import { FastAnswer, readerKey, type FastPathDeps } from './fast-answer.js';
import { isJsonMediaType, parseJsonBody } from './json-body.js';
import { requestId } from './request-id.js';
import { RequestValidationError } from './request-validation-error.js';
import { batchReadJson, multiReadJson } from './response-json.js';
import { categoriesOfFeatureList } from './route-access.js';
import { bodyValidator } from './validation.js';

/**
 * The multi-read `POST /api/v1/get/items` and the batch read `POST /api/v1/get/items/batch` on
 * the fast path (see fast-read.ts for the contract). Whether to take a request is decided from
 * its head alone (exact path, a JSON content type, a Content-Length within the body limit, a
 * key that may read); once taken, its body is read, parsed, validated and refused here with the
 * same answers Fastify's parser, validation and access check give.
 */

type Handler = (body: unknown, answer: FastAnswer, deps: FastPathDeps) => void;

interface FeatureReadBody {
  data: { entity_type: string; feature_list: string[] };
}

const multiRead: Handler = (body, answer, { service }) => {
  const { data } = body as MultiReadRequest;
  service.readFeatures({ entityType: data.entity_type, entityValue: data.entity_value, featureList: data.feature_list }).then(
    (out) => answer.send(200, multiReadJson(out)),
    (error: unknown) => answer.failed(error),
  );
};

const batchRead: Handler = (body, answer, { service }) => {
  const { data } = body as BatchReadRequest;
  service.readFeaturesBatch({ entityType: data.entity_type, entityValues: data.entity_values, featureList: data.feature_list }).then(
    (out) => answer.send(200, batchReadJson(out)),
    (error: unknown) => answer.failed(error),
  );
};

const ROUTES = new Map<string, { validate: ReturnType<typeof bodyValidator>; handle: Handler }>([
  ['/api/v1/get/items', { validate: bodyValidator(MultiReadRequest), handle: multiRead }],
  ['/api/v1/get/items/batch', { validate: bodyValidator(BatchReadRequest), handle: batchRead }],
]);

export function fastFeatureReads(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const route = ROUTES.get(req.url as string);
    if (route === undefined || deps.overloaded() || deps.closing()) return false;
    const { 'content-type': type, 'content-length': length, 'transfer-encoding': encoding } = req.headers;
    if (type === undefined || !isJsonMediaType(type) || length === undefined || encoding !== undefined) return false;
    if (!/^\d{1,9}$/.test(length) || Number(length) > LIMITS.bodyBytes) return false;
    const apiKey = readerKey(deps, req);
    if (apiKey === undefined) return false;
    if (apiKey !== null) deps.metrics.apiKeyRequests.inc({ key_id: apiKey.id });
    const answer = new FastAnswer(res, requestId(req), 'POST', req.url as string, deps);
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('error', () => answer.dropped());
    req.on('end', () => {
      const parsed = parseJsonBody(text);
      if (parsed instanceof RequestValidationError) return answer.failed(parsed);
      const invalid = route.validate(parsed.value);
      if (invalid !== undefined) return answer.failed(invalid);
      const refused = apiKey === null ? undefined : categoryRefusal(apiKey, categoriesOfFeatureList((parsed.value as FeatureReadBody).data.feature_list));
      if (refused !== undefined) return answer.failed(refused);
      route.handle(parsed.value, answer, deps);
    });
    return true;
  };
}
