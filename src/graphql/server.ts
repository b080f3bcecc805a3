import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import express, { type Router } from 'express';
import { type DocumentNode, getOperationAST, type GraphQLError } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { typeDefs } from '../../generated/graphql-schema';
import type { Config } from '../config';
import { labelGraphqlOperation, metricsExposed } from '../http/metrics';
import { pageCsp } from '../http/security-headers';
import type { Services } from '../services';
import { createContext, type GraphQLContext } from './context';
import { maskError } from './errors';
import { useNoNulCharacters } from './input-guard';
import { costRefusals, DEFAULT_LIMITS, documentLimitRules, type QueryLimits } from './limits';
import { useReplicaReads } from './replica-reads';
import { resolvers } from './resolvers';
import type { ReadRouting } from '../http/read-routing';

const GRAPHQL_PATH = '/graphql/';

type ServerContext = { req: express.Request; res: express.Response };

export interface GraphQLDeps {
  config: Config;
  orm: MikroORM;
  services: Services;
  logger: Logger;
  limits?: QueryLimits;
  /** With replicas: catalog queries may read from one, mutations record their caller (src/graphql/replica-reads.ts). */
  readRouting?: ReadRouting;
}

/**
 * GraphiQL with its scripts and styles inlined, so it works without reaching a CDN. A development
 * dependency, loaded only in development; where it is not installed (a production image started
 * with NODE_ENV=development) the API runs without GraphiQL.
 */
function graphiqlRenderer(logger: Logger) {
  try {
    // A synchronous, optional load (the router is built synchronously, and production has no dev dependencies).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@graphql-yoga/render-graphiql') as typeof import('@graphql-yoga/render-graphiql')).renderGraphiQL;
  } catch {
    logger.warn('GraphiQL is not available: @graphql-yoga/render-graphiql (a development dependency) is not installed');
    return undefined;
  }
}

/**
 * Names the request's operation for the metrics (`graphql:<name>`, src/http/metrics.ts) and its
 * trace's server span (src/tracing.ts) as soon as its document is parsed, so refused operations
 * are counted under their name too.
 */
function useMetricsLabel(): Plugin {
  return {
    onValidate({ params, context }) {
      const { res, params: request } = context as Partial<ServerContext> & { params?: { operationName?: string | null } };
      if (res) labelGraphqlOperation(res, getOperationAST(params.documentAST, request?.operationName ?? undefined)?.name?.value);
    },
  };
}

/**
 * The limits, checked while validating: an operation over them is refused before anything runs.
 * The validation of a document (graphql's rules, the document's limits and the plugins' rules,
 * the same for every request) is kept with the parsed document, which the parser cache shares
 * between requests: a client repeating its operations has each validated once. The cost counts
 * list sizes given by variables at their values, so it is checked for each request, after.
 */
function useLimits(limits: QueryLimits): Plugin {
  const rules = documentLimitRules(limits);
  const validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  return {
    onValidate({ addValidationRule, setValidationFn, validateFn, context }) {
      for (const rule of rules) addValidationRule(rule);
      const variables = (context as { params?: { variables?: Record<string, unknown> | null } }).params?.variables;
      setValidationFn((schema, document, allRules, typeInfo, options) => {
        let errors = validated.get(document);
        if (errors === undefined) {
          const found: readonly GraphQLError[] = validateFn(schema, document, allRules, typeInfo, options);
          validated.set(document, found);
          errors = found;
        }
        const refusals = costRefusals(schema, document, limits, variables);
        return refusals.length ? [...errors, ...refusals] : errors;
      });
    },
  };
}

/**
 * GraphQL at /graphql/ (and /graphql), served by graphql-yoga, with its SDL at
 * /graphql/schema.graphql. Mounted before the OpenAPI validator, which therefore never sees it;
 * the rate limiter, request ids and security headers before it apply as to REST. GraphiQL only
 * in development.
 */
export function graphqlRouter({ config, orm, services, logger, limits = DEFAULT_LIMITS, readRouting }: GraphQLDeps): Router {
  const renderGraphiQL = config.env === 'development' ? graphiqlRenderer(logger) : undefined;
  const withGraphiql = renderGraphiQL !== undefined;
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema: createSchema<ServerContext & GraphQLContext>({ typeDefs, resolvers: resolvers as never }),
    graphqlEndpoint: '/graphql',
    graphiql: withGraphiql,
    ...(renderGraphiQL ? { renderGraphiQL } : {}),
    landingPage: false,
    logging: false,
    maskedErrors: { maskError: maskError(logger, config.env !== 'production') },
    // U+0000 in variables or literals is refused like REST's (src/http/input-guard.ts), before the limits.
    // The operation's label only when metrics are kept or traces taken: otherwise nothing would read it.
    plugins: [...(metricsExposed(config.metrics) || config.tracing.enabled ? [useMetricsLabel()] : []), useNoNulCharacters(), useLimits(limits), ...(readRouting ? [useReplicaReads(readRouting)] : [])],
    // Parsed documents are cached; validation is kept by useLimits, which checks the cost (it
    // depends on each request's variables) apart.
    parserAndValidationCache: { validationCache: false },
    context: async ({ req }) => {
      // One unit of work per request, like REST's RequestContext.
      const em = orm.em.fork() as EntityManager;
      // The same verifier as REST's security handler; no Authorization header is an anonymous caller.
      const auth = req.headers.authorization ? await services.bearer.verify(req, em) : { principal: null };
      // The client's address as REST's handlers see it (trust proxy applies): login throttling keys on it.
      return createContext(em, services, auth, req.ip ?? 'unknown', req.get('X-Cart-Token') ?? null);
    },
  });

  const router = express.Router();
  router.get('/graphql/schema.graphql', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('text/plain; charset=utf-8').send(typeDefs);
  });
  // GraphiQL (development only) runs inline scripts and styles and starts its editor's workers from
  // blob: URLs; the API keeps helmet's strict CSP.
  const graphiqlCsp = pageCsp(
    {
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      workerSrc: ["'self'", 'blob:'],
    },
    config.publicUrl,
  );
  router.all(
    ['/graphql', GRAPHQL_PATH],
    (req, res, next) => (withGraphiql && req.method === 'GET' ? graphiqlCsp(req, res, next) : next()),
    // Bodies are JSON only, parsed here under the REST body limit and handed to yoga parsed (yoga
    // would otherwise read other media types itself, without a limit).
    (req, _res, next) => {
      if (req.method !== 'POST' || req.is('application/json')) return next();
      next(Object.assign(new Error('GraphQL requests are sent as application/json'), { status: 415, errors: [] }));
    },
    express.json({ limit: config.http.bodyLimit, type: 'application/json' }),
    (req, res) => {
      // Answers may depend on the caller and are POSTed: never cached.
      res.set('Cache-Control', 'no-store');
      return yoga(req, res);
    },
  );
  return router;
}
