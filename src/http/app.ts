import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import { LIMITS } from '../contract/limits.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { FeatureService } from '../service/feature-service.js';
import { registerErrorHandling } from './error-handler.js';
import { registerJsonBodyParser } from './json-body.js';
import { itemRoutes } from './routes/items.js';
import { lineageRoutes } from './routes/lineage.js';
import { healthRoutes, metricsRoutes } from './routes/operations.js';
import { validatorCompiler } from './validation.js';

export interface AppDeps {
  config: Config;
  service: FeatureService;
  metrics: Metrics;
  logger: Logger;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's `x-request-id` when it is sane (printable ASCII, ≤ 128 chars), else a UUID. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Server options shared by production and tests, so tests exercise what runs. */
export function serverOptions(logger: Logger): FastifyServerOptions {
  // A child logger per request costs measurable time and is only useful when per-request lines
  // are logged (debug); otherwise the few error lines carry `reqId` themselves.
  const perRequestLoggers = logger.isLevelEnabled('debug');
  return {
    loggerInstance: logger,
    childLoggerFactory: (parent, bindings, options) => (perRequestLoggers ? parent.child(bindings, options) : parent),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    bodyLimit: LIMITS.bodyBytes,
    // Entity values are up to 1,024 characters, percent-encoded in paths (≤ 12 bytes each).
    routerOptions: { maxParamLength: LIMITS.entityValueLength * 12, ignoreTrailingSlash: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  };
}

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** The whole HTTP application as one Fastify instance; `server.ts` only listens. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { service, metrics, logger } = deps;
  const app = Fastify(serverOptions(logger)).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // Responses keep the key order the service builds (the record's entity-type key first, as the
  // old service sent it); the response schemas still document every body in OpenAPI.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonBodyParser(app);
  registerErrorHandling(app);

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const debug = logger.isLevelEnabled('debug');
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status_class: STATUS_CLASS[Math.floor(reply.statusCode / 100)] ?? 'other',
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (debug) {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Feature store API',
        version: '1.0.0',
        description:
          'Online feature store: compute jobs write one category of features per entity (full replace, with lineage metadata); prediction services read one category or selected features across categories. Every write emits a change event to Kafka.',
      },
      tags: [
        { name: 'features', description: 'Write and read features' },
        { name: 'lineage', description: 'Which compute jobs wrote a record' },
        { name: 'operations', description: 'Health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(itemRoutes, { prefix: '/api/v1', service });
  await app.register(lineageRoutes, { prefix: '/api/v1', service });
  await app.register(healthRoutes, { prefix: '/api/v1', service });
  await app.register(metricsRoutes, { metrics });
  return app;
}
