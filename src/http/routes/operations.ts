import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Metrics } from '../../metrics.js';
import type { FeatureService } from '../../service/feature-service.js';
import { HealthResponse } from '../../contract/schemas.js';
import { healthResponse } from '../responses.js';

/** Health (under /api/v1) — really checks the store and reports the event pipeline. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ service: FeatureService }> = async (app, { service }) => {
  app.get(
    '/health',
    {
      config: { access: 'open' },
      schema: {
        summary: 'Service health',
        description: '200 when the store answers, 503 when it cannot be reached. Events may be `degraded` (broker away) while the service stays healthy.',
        tags: ['operations'],
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (request, reply) => {
      const report = await service.health();
      const body = healthResponse(report);
      if (!report.healthy) request.log.warn({ reqId: request.id, health: body, reason: report.store.error }, 'health check failed');
      return reply.code(report.healthy ? 200 : 503).send(body);
    },
  );
};

/** Prometheus metrics from the service's own registry; `access` from `METRICS_ACCESS`. */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics; access: 'open' | 'admin' }> = async (app, { metrics, access }) => {
  app.get('/metrics', { config: { access }, schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
};
