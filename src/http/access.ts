import type { FastifyInstance } from 'fastify';
import type { ApiKey, Scope } from '../auth/api-keys.js';
import type { KeyRing } from '../auth/key-ring.js';
import { echo, ForbiddenError, NotAuthenticatedError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { RequestValidationError } from './request-validation-error.js';

/**
 * Access control with API keys (`API_KEYS_FILE`). Every route declares in its `config`:
 * - `access`: `open` (health), or the scope a key needs (`read`, `write`, `admin`);
 * - `categories(request)`: the categories the request touches (`'all'` for an erasure), checked
 *   against the key's category restriction;
 * - `source(request)`: the `source` a write or delete claims, checked against the key's sources.
 * A route that declares no `access` needs `admin`, so a route added without thought is closed.
 * Paths that match no route pass through (they answer 404/405 and touch nothing).
 *
 * Missing or invalid key → 401 with `WWW-Authenticate: Bearer`; a scope or category the key
 * lacks → 403; a source it may not claim → 422 at the source's place, as an unlisted source is.
 * Without a keys file none of this is registered (open mode: no cost per request).
 */
export type RouteAccess = 'open' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    categories?: (request: FastifyRequest) => readonly string[] | 'all';
    source?: (request: FastifyRequest) => { value: string; loc: (string | number)[] } | undefined;
  }
  interface FastifyRequest {
    /** The authenticated API key; undefined in open mode and on open routes. */
    apiKey: ApiKey | undefined;
  }
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/** The key an `Authorization: Bearer …` header carries, when it is one of the ring's. */
export function bearerKey(keys: KeyRing, header: string | undefined): ApiKey | undefined {
  const match = header === undefined ? null : BEARER.exec(header);
  return match === null ? undefined : keys.verify(match[1] as string);
}

/** The 403 for a key limited to some categories that a request touching `touched` gets, if any. */
export function categoryRefusal(key: ApiKey, touched: readonly string[] | 'all'): ForbiddenError | undefined {
  if (key.categories === undefined) return undefined;
  const refused = touched === 'all' ? '*' : touched.find((c) => !(key.categories as readonly string[]).includes(c));
  if (refused === undefined) return undefined;
  return new ForbiddenError(
    refused === '*'
      ? `API key '${key.id}' is limited to categories ${key.categories.join(', ')} and may not act on every category`
      : `API key '${key.id}' may not access category '${refused}'`,
  );
}

/** The 422 for a `source` the key may not claim, at the source's place, if any. */
export function sourceRefusal(key: ApiKey, claimed: { value: string; loc: (string | number)[] }): RequestValidationError | undefined {
  if ((key.sources ?? []).includes(claimed.value)) return undefined;
  const allowed = (key.sources ?? []).join(', ') || 'none';
  return new RequestValidationError([
    {
      type: 'value_error',
      loc: claimed.loc,
      msg: `Value error, source '${echo(claimed.value)}' may not be claimed with API key '${key.id}'. Allowed sources: ${allowed}`,
    },
  ]);
}

export function registerAccessControl(app: FastifyInstance, keys: KeyRing, metrics: Metrics): void {
  app.decorateRequest('apiKey', undefined);

  app.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config;
    // No route matched (404/405 answers), or an open one.
    if (request.routeOptions.url === undefined || config.access === 'open') {
      done();
      return;
    }
    const key = bearerKey(keys, request.headers.authorization);
    if (key === undefined) {
      reply.header('www-authenticate', 'Bearer');
      done(new NotAuthenticatedError());
      return;
    }
    metrics.apiKeyRequests.inc({ key_id: key.id });
    const scope = config.access ?? 'admin';
    if (!key.scopes.includes(scope)) {
      done(new ForbiddenError(`API key '${key.id}' lacks the '${scope}' scope`));
      return;
    }
    request.apiKey = key;
    done();
  });

  // After validation, so categories and sources are read from a checked request.
  app.addHook('preHandler', (request, _reply, done) => {
    const key = request.apiKey;
    if (key === undefined) {
      done();
      return;
    }
    const config = request.routeOptions.config;
    if (config.categories !== undefined && request.validationError === undefined) {
      const refused = categoryRefusal(key, config.categories(request));
      if (refused !== undefined) {
        done(refused);
        return;
      }
    }
    const claimed = config.source?.(request);
    const refused = claimed === undefined ? undefined : sourceRefusal(key, claimed);
    if (refused !== undefined) {
      done(refused);
      return;
    }
    done();
  });
}
