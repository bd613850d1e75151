import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { FeatureStoreError } from '../errors.js';

/** Client addresses tracked at once; the least recently seen is forgotten first. */
const TRACKED_CLIENTS = 10_000;

/**
 * At most `perSecond` feature requests (`/api/*` except health) per second for each API key
 * (keys on) or else each client address, through `@fastify/rate-limit`; over it, 429
 * `RATE_LIMITED` with `Retry-After`. The address is the connection's: behind a proxy every
 * client shares the proxy's. `perSecond` 0: no limit. Registered before the routes, which it
 * attaches to as route hooks; those run after the access check has found the key.
 */
export async function registerRateLimit(app: FastifyInstance, perSecond: number): Promise<void> {
  if (perSecond <= 0) return;
  await app.register(rateLimit, {
    max: perSecond,
    timeWindow: 1000,
    cache: TRACKED_CLIENTS,
    keyGenerator: (request) => (request.apiKey === undefined ? `address:${request.ip}` : `key:${request.apiKey.id}`),
    allowList: (request) => !request.url.startsWith('/api/') || request.url.startsWith('/api/v1/health'),
    errorResponseBuilder: (_request, context) =>
      new FeatureStoreError(
        'RATE_LIMITED',
        429,
        `Rate limit exceeded: at most ${context.max} requests per second per client; retry in ${context.after}`,
        { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      ),
  });
}
