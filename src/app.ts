import { randomUUID } from 'node:crypto';
import { RequestContext, type MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import cors from 'cors';
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import spec from '../generated/openapi.bundle.json';
import { operationIndex } from '../generated/operations';
import type { Config } from './config';
import { handlers as appHandlers, type Handlers } from './handlers';
import { bearerSecurityHandler, cartTokenSecurityHandler } from './http/auth';
import { graphqlRouter } from './graphql/server';
import { answerClientErrors } from './http/client-errors';
import { docsRouter } from './http/docs';
import { strongEtag } from './http/etag';
import { mediaFiles } from './http/media-files';
import { createMetrics, metricsExposed, metricsWithToken, type Metrics } from './http/metrics';
import { poolReadings, replicaSetOf, replicasReading } from './db/pools';
import { strictFormats } from './http/formats';
import { refuseDisallowedHosts } from './http/hosts';
import { normalizeQuery, refuseNulCharacters, validationError } from './http/input-guard';
import { mountOperations } from './http/operations';
import { multipartOperations, operationOf, operationsWithBody, problemHandler } from './http/problem';
import { memoizeValidatorRouteCompilation } from './http/route-cache';
import { speedUpValidator } from './http/validator-fast-paths';
import { rateLimitRequests } from './http/rate-limit';
import { replicaRouting, routeReads } from './http/read-routing';
import { securityHeaders } from './http/security-headers';
import { redirectToSlashedPaths } from './http/trailing-slash';
import { explainReservedCharacters } from './http/reserved-characters';
import { serializeError } from './logger';
import type { Services } from './services';

export interface AppDeps {
  config: Config;
  orm: MikroORM;
  services: Services;
  logger: Logger;
  /** Defaults to the application's handlers; tests may swap one to check the contract's safety nets. */
  handlers?: Handlers;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The Express app, with its middleware in one readable order. */
export function createApp({ config, orm, services, logger, handlers = appHandlers }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  // Express's strong ETag, the same values, computed with one call (src/http/etag.ts).
  app.set('etag', strongEtag);

  const probes: ReadonlySet<string> = new Set([operationIndex.getHealth.path, operationIndex.getReadiness.path]);

  // 0. Prometheus metrics, when they are exposed (METRICS_TOKEN, METRICS_PORT): every request is
  // counted and timed, first, so even those refused early are. Kept in app.locals for the
  // METRICS_PORT listener (src/main.ts).
  const metrics: Metrics | undefined =
    metricsExposed(config.metrics)
      ? createMetrics({
          pools: () => poolReadings(orm.em as EntityManager),
          ...(replicaSetOf(orm.em as EntityManager) ? { replicas: () => replicasReading(orm.em as EntityManager) } : {}),
          queues: () => services.jobs.depths(),
          limits: () => ({ redisUp: services.limits.redis ? services.limits.redis.status === 'ready' : undefined, fallbacks: services.limits.fallbacks }),
        })
      : undefined;
  app.locals.metrics = metrics;
  if (metrics) app.use(metrics.instrument);

  // 1. Request id and a short access log: one line per request at info (method, URL, status, time,
  // request id; no headers), the health probes at debug (orchestrators call them every few
  // seconds). Above info no access line is written, so the per-request child logger pino-http
  // builds is skipped (~7% of CPU under load): failures are still logged with the request id.
  const requestId = (req: express.Request | import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  if (logger.isLevelEnabled('info')) {
    app.use(
      pinoHttp({
        logger,
        genReqId: requestId,
        customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : probes.has(req.url?.split('?')[0] ?? '') ? 'debug' : 'info'),
        customSuccessMessage: (req, res, ms) => `${req.method} ${req.url} ${res.statusCode} ${Math.round(ms)}ms`,
        customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode} failed`,
        quietReqLogger: true,
        // pino-http's own serializers replace the logger's: errors are scrubbed of values here too.
        // The request and the answer are named, not dumped (headers made a line ~1.5 KB).
        serializers: {
          err: serializeError,
          req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
      }),
    );
  } else {
    // Like pino-http's (quietReqLogger): `req.log` is a child with the request id, built only when
    // something logs. Defined once on the app's request prototype, not on every request.
    const children = new WeakMap<object, Logger>();
    Object.defineProperty(app.request, 'log', {
      configurable: true,
      get(this: express.Request) {
        let child = children.get(this);
        if (!child) children.set(this, (child = logger.child({ reqId: this.id })));
        return child;
      },
      set(this: express.Request, value: Logger) {
        children.set(this, value);
      },
    });
    app.use((req, res, next) => {
      req.id = requestId(req, res);
      next();
    });
  }
  app.use((_req, res, next) => {
    if (services.lifecycle.draining) res.set('Connection', 'close');
    next();
  });

  // 2. Security headers and CORS (an allow-list; no origin is allowed by default outside development).
  // `upgrade-insecure-requests` and HSTS only over https (src/http/security-headers.ts).
  app.use(securityHeaders(config.publicUrl));
  app.use(
    cors({
      origin: config.http.corsOrigins,
      exposedHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
      maxAge: 600,
    }),
  );

  // 2b. Links are built on PUBLIC_URL, or on the request's host only when it is an allowed one:
  // any other host is refused (400 DISALLOWED_HOST) before anything runs (src/http/hosts.ts).
  app.use(refuseDisallowedHosts(config.http.allowedHosts, probes));

  // 3. Documentation (outside the contract).
  app.use(docsRouter(spec, config.publicUrl));

  // 3b. Uploaded media stored on local disk (MEDIA_STORAGE=local), outside the contract like the
  // docs; nginx serves the same folder in the compose file. S3 objects are served by the bucket or its CDN.
  if (config.media.storage.driver === 'local') app.use('/media', mediaFiles(config.media.storage.root));

  // 3c. `GET /metrics` on the API's port, behind METRICS_TOKEN (outside the contract, before the
  // rate limiter: scrapes are never throttled). Without a token it is not served here (404).
  if (metrics && config.metrics.token) app.get('/metrics', metricsWithToken(metrics, config.metrics.token));

  // 4. Every API request counts against its client's allowance (the health probes never do).
  if (services.requestLimiter) app.use(rateLimitRequests(services.requestLimiter, probes));

  // 4a. With replicas (DATABASE_REPLICA_URLS), a request reads from the primary unless its adapter
  // (GraphQL's plugin, 6b for REST) lets it read the catalog from a replica (src/http/read-routing.ts).
  const readRouting = replicaRouting(orm.em as EntityManager, services.recentWriters);

  // 4b. GraphQL (/graphql/, its SDL at /graphql/schema.graphql): outside the OpenAPI contract, so
  // before the validator; its own unit of work, body limit and errors (src/graphql/).
  app.use(graphqlRouter({ config, orm, services, logger, readRouting }));

  // 4c. The contract's paths end with a slash: `/api/product` is redirected (308) to `/api/product/`.
  app.use(redirectToSlashedPaths(Object.values(operationIndex).map((op) => op.path)));

  // 5. One unit of work per request.
  app.use((_req, _res, next) => RequestContext.create(orm.em, next));

  // 6. Body parsing, then the contract: every request is validated (body, query, path, headers, security).
  app.use((req, _res, next) => {
    // Express 5 re-parses req.query on every read; pin it so the validator's coercion and defaults
    // stick, with the bracket forms of array parameters (`brand[]=A`, `brand[0]=A`) folded into
    // `brand` (src/http/input-guard.ts). The text as sent is kept for the integer rule.
    const { query, issues } = normalizeQuery(req.query);
    if (issues.length) return next(validationError(issues));
    req.rawQuery = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
    Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true, enumerable: true });
    next();
  });
  // Only the body of an operation that declares one is read: any other ignores a body sent with it
  // (a GET with a body), which its size or syntax could otherwise refuse with an answer (413, 400
  // MALFORMED_JSON) its contract does not declare.
  const parseJson = express.json({
    limit: config.http.bodyLimit,
    type: ['application/json', 'application/*+json'],
    // Webhook signatures are computed over the exact bytes received.
    verify: (req, _res, buf) => {
      (req as express.Request).rawBody = buf;
    },
  });
  // A catalog file is the raw body of its import (CSV or JSON Lines), up to CATALOG_IMPORT_MAX_BYTES
  // (413 above); any other media type is left to the validator (415).
  const parseCatalogFile = express.raw({
    type: ['text/csv', 'application/x-ndjson'],
    limit: config.catalogImport.maxBytes,
    verify: (req, _res, buf) => {
      (req as express.Request).rawBody = buf;
    },
  });
  app.use((req, res, next) => {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // Only a request with a body looks its operation up (a scan of the contract's routes): GETs never do.
    if (!hasBody) return next();
    const operation = operationOf(req) ?? '';
    // Multipart bodies (media uploads) are read by the validator's multer.
    if (!operationsWithBody.has(operation) || multipartOperations.has(operation)) return next();
    if (operation !== 'importProducts') return parseJson(req, res, next);
    return parseJson(req, res, (err?: unknown) => (err ? next(err) : parseCatalogFile(req, res, next)));
  });
  // U+0000 anywhere in the path, query, headers or body: 400 naming each field, before the contract.
  app.use(refuseNulCharacters());
  memoizeValidatorRouteCompilation();
  speedUpValidator();
  app.use(
    OpenApiValidator.middleware({
      apiSpec: structuredClone(spec) as never,
      // JSON bodies are never coerced (12345 is not "12345"); query and path parameters always are.
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false, removeAdditional: false, allErrors: true },
      validateResponses: config.http.validateResponses ? { removeAdditional: false } : false,
      validateSecurity: {
        handlers: {
          ...bearerSecurityHandler(services.bearer, () => RequestContext.getEntityManager() as EntityManager),
          ...cartTokenSecurityHandler((em, token) => services.cart.guestByToken(em, token), () => RequestContext.getEntityManager() as EntityManager),
        },
      },
      // multipart/form-data (media uploads): multer in memory, one file of at most MEDIA_MAX_BYTES
      // (refused as soon as it passes the limit, never read whole), a few short fields.
      fileUploader: { limits: { fileSize: config.media.maxBytes, files: 1, fields: 8, parts: 9, fieldSize: 4096, fieldNameSize: 100, headerPairs: 50 } },
      validateFormats: true,
      // Calendar-exact dates (no 2030-02-30, month 13, leap second or year 0000): src/http/formats.ts.
      formats: strictFormats,
      ignoreUndocumented: false,
    }),
  );

  // 6b. Replicas: a write records its caller (read-your-writes); a catalog read may go to a replica.
  if (readRouting) app.use(routeReads(readRouting));

  // 7. Every operation of the contract, by operationId.
  const api = express.Router();
  mountOperations(api, handlers, { services, publicUrl: config.publicUrl });
  app.use(api);

  // 8. Every failure becomes application/problem+json (a reserved character in a query value is
  // explained first: `min_price=10,5` wants a decimal with a dot).
  app.use(explainReservedCharacters(spec));
  app.use(problemHandler({ exposeInternals: config.env !== 'production', strictContract: config.http.validateResponses }));

  // Requests Node's HTTP parser refuses (a NUL in a header...) get a problem document too.
  const listen = app.listen.bind(app) as (...args: unknown[]) => import('node:http').Server;
  app.listen = ((...args: unknown[]) => {
    const server = listen(...args);
    answerClientErrors(server);
    return server;
  }) as Express['listen'];
  return app;
}
