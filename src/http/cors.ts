import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Cross-origin access for browsers, off unless `CORS_ORIGINS` lists origins. Only those exact
 * origins get `Access-Control-Allow-Origin`; others get no CORS headers, so their pages can
 * neither read answers nor pass the preflight a JSON POST needs (with JSON-only bodies, no
 * cross-site write goes without one).
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    // Browsers cache a preflight answer this long (seconds).
    maxAge: 600,
  });
}
