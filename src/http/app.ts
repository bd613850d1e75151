import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
import { fastPaths, nodeFastPaths } from './fast-read.js';
import { installLane, type LaneTake } from './lane.js';
import { httpMetricsOf } from './http-metrics.js';
import { requestId } from './request-id.js';

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

/** The fast paths (fast-read.ts) as the server front uses them; undefined while they are off. */
interface Front {
  /** On the connection, before node:http (lane.ts). */
  lane: LaneTake;
  /** As a request listener before Fastify's, for connections the lane handed to node:http. */
  node: (req: IncomingMessage, res: ServerResponse) => boolean;
  closing: () => boolean;
}

/**
 * Fastify's HTTP/1 server (as Fastify builds it from the same options) with the fast paths in
 * front of Fastify: on each connection the lane first, then, on a connection node:http reads,
 * a request listener that gets each request before Fastify's and returns true when it answered.
 */
function frontedServer(limits: HttpLimits, front: () => Front | undefined): NonNullable<FastifyHttpOptions<Server>['serverFactory']> {
  const options = timeouts(limits);
  return (handler) => {
    const server = createServer(options.http ?? {}, (req, res) => {
      const listener = front()?.node;
      if (listener === undefined || !listener(req, res)) handler(req, res);
    });
    installLane(
      server,
      () => front()?.lane,
      () => front()?.closing() ?? false,
    );
    server.keepAliveTimeout = options.keepAliveTimeout as number;
    server.requestTimeout = options.requestTimeout as number;
    server.setTimeout(options.connectionTimeout as number);
    return server;
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

/** The whole HTTP application as one Fastify instance; `server.ts` only listens. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, service, metrics, logger } = deps;
  let front: Front | undefined;
  const app = Fastify({ ...serverOptions(logger, config.http), serverFactory: frontedServer(config.http, () => front) }).withTypeProvider<TypeBoxTypeProvider>();
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
  const overloaded = registerOverloadGuard(app, config.http.maxEventLoopDelayMs);
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

  // The hot reads skip Fastify's pipeline (fast-read.ts); off where they would have to repeat
  // more of it than a read costs.
  if (config.corsOrigins.length === 0 && config.http.rateLimitPerSecond <= 0 && deps.statsd === undefined && !debug) {
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    const take = fastPaths({ service, metrics, httpMetrics, logger, deadline, keys: deps.keys, overloaded, closing: () => closing });
    front = { lane: take, node: nodeFastPaths(take), closing: () => closing };
  }

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
