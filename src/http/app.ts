import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import type { KeyRing } from '../auth/key-ring.js';
import type { Config, HttpLimits } from '../config.js';
import { LIMITS } from '../contract/limits.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { FeatureService } from '../service/feature-service.js';
import { registerAccessControl, type RouteAccess } from './access.js';
import { registerCors } from './cors.js';
import { registerErrorHandling } from './error-handler.js';
import type { Statsd } from '../statsd.js';
import { registerJsonBodyParser } from './json-body.js';
import { clientErrorHandler, frameworkErrors, standardHeaders } from './protocol-errors.js';
import { registerOverloadGuard } from './overload.js';
import { registerRateLimit } from './rate-limit.js';
import { ResponseDeadline } from './response-deadline.js';
import { batchReadRoutes } from './routes/batch-read.js';
import { deleteRoutes } from './routes/deletes.js';
import { registerLegacyStatsd } from './legacy-statsd.js';
import { registerOpenApi } from './openapi.js';
import { itemRoutes } from './routes/items.js';
import { mergeWriteRoutes } from './routes/merge-write.js';
import { lineageRoutes } from './routes/lineage.js';
import { computeJobRoutes } from './routes/compute-jobs.js';
import { rollbackRoutes } from './routes/rollback.js';
import { versionRoutes } from './routes/versions.js';
import type { Rollbacks } from '../service/rollback.js';
import { categoryListRoutes } from './routes/category-list.js';
import { healthRoutes, metricsRoutes } from './routes/operations.js';
import { uiRoutes } from './routes/ui.js';
import { validatorCompiler } from './validation.js';

export interface AppDeps {
  config: Config;
  service: FeatureService;
  metrics: Metrics;
  logger: Logger;
  /** API keys in force; undefined in open mode. */
  keys?: KeyRing | undefined;
  /** The optional sink of the old service's StatsD metrics. */
  statsd?: Statsd;
  /** Rollbacks of compute jobs; without it the rollback routes are not served. */
  rollbacks?: Rollbacks;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's `x-request-id` when it is sane (printable ASCII, ≤ 128 chars), else a UUID. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Server options shared by production and tests, so tests exercise what runs. */
export function serverOptions(logger: Logger, limits: HttpLimits): FastifyHttpOptions<Server> {
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
    frameworkErrors,
    clientErrorHandler: clientErrorHandler(logger),
    ...timeouts(limits),
  };
}

/**
 * Node's and Fastify's time bounds from `HttpLimits`. Node enforces the header and body bounds
 * on a timer; it runs at least every second (Node's default is 30 s) so they hold closely.
 */
function timeouts(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.bodyTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
    },
    requestTimeout: limits.bodyTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // A connection silent both ways this long (a client that stopped reading) is closed.
    connectionTimeout: 2 * limits.requestTimeoutMs,
  };
}

/**
 * At most `maxConnections` open connections: Node drops the ones over the limit at once, and
 * each drop closes the idle keep-alive connections, so idle holders cannot lock clients out.
 */
function boundConnections(server: Server, maxConnections: number): void {
  server.maxConnections = maxConnections;
  server.on('drop', () => server.closeIdleConnections());
}

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * The request counter and duration histogram of one route, method and status class, as one
 * `observe`. prom-client hashes a label object on every call; the bound children are cached
 * instead (bounded: route templates, the methods Node's parser accepts, six classes).
 */
function httpMetricsOf(metrics: Metrics): (route: string, method: string, status: number) => { observe: (seconds: number) => void } {
  const cache = new Map<string, { observe: (seconds: number) => void }>();
  return (route, method, status) => {
    const statusClass = STATUS_CLASS[Math.floor(status / 100)] ?? 'other';
    const key = `${method} ${statusClass} ${route}`;
    let bound = cache.get(key);
    if (bound === undefined) {
      const counter = metrics.httpRequests.labels(route, method, statusClass);
      const histogram = metrics.httpDuration.labels(route, method, statusClass);
      bound = {
        observe: (seconds) => {
          counter.inc();
          histogram.observe(seconds);
        },
      };
      cache.set(key, bound);
    }
    return bound;
  };
}

/** The whole HTTP application as one Fastify instance; `server.ts` only listens. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, service, metrics, logger } = deps;
  const app = Fastify(serverOptions(logger, config.http)).withTypeProvider<TypeBoxTypeProvider>();
  boundConnections(app.server, config.http.maxConnections);
  app.setValidatorCompiler(validatorCompiler);
  // Responses keep the key order the service builds (the record's entity-type key first, as the
  // old service sent it); the response schemas still document every body in OpenAPI.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonBodyParser(app);
  registerErrorHandling(app);
  // First, so that every answer (a 401, 503 or 415 too) carries the request id and headers.
  // The response deadline starts here too (REQUEST_TIMEOUT_MS; see response-deadline.ts).
  const deadline = new ResponseDeadline(config.http.requestTimeoutMs);
  app.addHook('onClose', (_instance, done) => {
    deadline.close();
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    deadline.arrive(reply);
    standardHeaders(request, reply);
    done();
  });
  // CORS first: preflights are answered before access control (browsers send them without
  // keys), and browsers can read every later refusal (503, 401, 415, …).
  await registerCors(app, config.corsOrigins);
  // Before access control: refusing under overload must cost as little as possible.
  registerOverloadGuard(app, config.http.maxEventLoopDelayMs);
  const access = deps.config.access;
  // The documentation routes (Swagger UI's among them) take their access from DOCS_ACCESS.
  const docsAccess: RouteAccess = access.docs === 'admin' ? 'admin' : 'open';
  app.addHook('onRoute', (route) => {
    if (route.url === '/openapi.json' || route.url.startsWith('/docs')) route.config = { ...route.config, access: docsAccess };
  });
  if (deps.statsd !== undefined) registerLegacyStatsd(app, deps.statsd, deps.config);
  // After the request id and headers, so that refusals carry them too.
  if (deps.keys !== undefined) registerAccessControl(app, deps.keys, metrics);
  // Route hooks run after the access check: the limit is per key when keys are on.
  await registerRateLimit(app, config.http.rateLimitPerSecond);
  const debug = logger.isLevelEnabled('debug');
  const httpMetrics = httpMetricsOf(metrics);
  app.addHook('onResponse', (request, reply, done) => {
    deadline.leave(reply);
    httpMetrics(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode).observe(reply.elapsedTime / 1000);
    if (debug) {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
    }
    done();
  });

  await registerOpenApi(app, deps.config);

  await app.register(itemRoutes, { prefix: '/api/v1', service });
  await app.register(mergeWriteRoutes, { prefix: '/api/v1', service });
  await app.register(batchReadRoutes, { prefix: '/api/v1', service });
  await app.register(deleteRoutes, { prefix: '/api/v1', service });
  await app.register(lineageRoutes, { prefix: '/api/v1', service });
  await app.register(computeJobRoutes, { prefix: '/api/v1', service });
  await app.register(versionRoutes, { prefix: '/api/v1', service });
  if (deps.rollbacks !== undefined) await app.register(rollbackRoutes, { prefix: '/api/v1', rollbacks: deps.rollbacks });
  await app.register(categoryListRoutes, { prefix: '/api/v1', service });
  await app.register(healthRoutes, { prefix: '/api/v1', service });
  if (access.metrics !== 'off') await app.register(metricsRoutes, { metrics, access: access.metrics });
  await app.register(uiRoutes, { config });
  return app;
}
