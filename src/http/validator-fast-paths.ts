import type { NextFunction, Request, Response } from 'express';

/**
 * Two of express-openapi-validator's per-request steps made cheaper, with the same outcome. Both
 * wrap the validator's own middleware (its class's `metadataMiddleware` and `securityMiddleware`,
 * patched once per process on the prototype, like src/http/route-cache.ts patches its route
 * compiler) and hand every request they do not answer exactly to the original.
 *
 * 1. The operation look-up: the validator tries every route of the contract in turn, a regexp per
 *    route (`lookupRoute` in its openapi.metadata.js: ~5% of the CPU of a product list). Here the
 *    routes are grouped by their first two path segments when those are literal; a request tries,
 *    in the validator's own order, only the routes of its group and those whose first two segments
 *    hold a parameter. No other route can match it (a literal segment matches only itself), so the
 *    first match is the validator's first match. A request that matches none, or matches a path but
 *    not its method, or whose parameters do not decode, goes to the original (its 404, 405 and 400).
 * 2. Anonymous requests to operations that allow anonymous callers (`security: [{}, ...]`): when the
 *    request carries none of the credentials the security schemes read (no Authorization header, no
 *    X-Cart-Token...), every other requirement fails before its handler runs and the anonymous one
 *    passes, so the outcome is known: the request goes on. The validator reaches it by throwing one
 *    Error per scheme (a stack trace each) in a few promise rounds.
 */

type Json = Record<string, unknown>;
type Compile = (path: string, options?: object) => { regexp: RegExp; keys: { name: string }[] };
type Middleware = (req: Request, res: Response, next: NextFunction) => unknown;
interface RouteMethods {
  basePath: string;
  _openApiRoute: string;
  _expressRoute: string;
  [method: string]: unknown;
}
export interface OpenApiContext {
  expressRouteMap: Record<string, RouteMethods>;
  apiDoc: { paths: Record<string, Record<string, unknown>>; security?: unknown[]; components?: { securitySchemes?: Record<string, Json> } };
  useRequestUrl: boolean;
  serial: number;
  shouldIgnoreRoute(path: string): boolean;
}
interface ValidatorPrototype {
  metadataMiddleware(context: OpenApiContext, responseApiDoc: OpenApiContext['apiDoc'] | undefined): Middleware;
  securityMiddleware(apiDoc: OpenApiContext['apiDoc']): Middleware;
  fastPaths?: true;
}

/** A route's group: its first two path segments when both are literal (lower-cased unless routing is case sensitive), else undefined (it may match any path). */
function groupOf(segments: string[], sensitive: boolean, literal: (s: string) => boolean): string | undefined {
  const [first = '', second = ''] = segments;
  if (!literal(first) || !literal(second)) return undefined;
  const key = `${first}/${second}`;
  return sensitive ? key : key.toLowerCase();
}

/** Segments after the leading slash: `/api/product/1/` → ['api', 'product', '1', '']. */
const segmentsOf = (path: string) => path.split('/').slice(1);
/** An Express route segment with no parameter or pattern in it. */
const literalSegment = (s: string) => !/[:*?(){}+]/.test(s);

interface IndexedRoute {
  expressRoute: string;
  methods: RouteMethods;
}

/** The validator's routes, in its order, by group, for one `{ sensitive, strict }` option shape. */
class RouteIndex {
  private readonly byGroup = new Map<string, IndexedRoute[]>();
  private readonly anyGroup: IndexedRoute[] = [];

  constructor(
    context: OpenApiContext,
    readonly sensitive: boolean,
  ) {
    const groups: (string | undefined)[] = [];
    const routes = Object.entries(context.expressRouteMap).map(([expressRoute, methods]) => {
      groups.push(groupOf(segmentsOf(expressRoute), sensitive, literalSegment));
      return { expressRoute, methods };
    });
    // A group's list keeps the validator's order, with the parameterised routes in their places.
    const names = new Set(groups.filter((g): g is string => g !== undefined));
    for (const name of names) this.byGroup.set(name, routes.filter((_r, i) => groups[i] === name || groups[i] === undefined));
    this.anyGroup.push(...routes.filter((_r, i) => groups[i] === undefined));
  }

  candidates(path: string): IndexedRoute[] {
    const [first = '', second = ''] = segmentsOf(path);
    const key = `${first}/${second}`;
    return this.byGroup.get(this.sensitive ? key : key.toLowerCase()) ?? this.anyGroup;
  }
}

/** The validator's own copy of path-to-regexp (see src/http/route-cache.ts). */
function validatorPathToRegexp(): Compile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] })) as { pathToRegexp: Compile };
  return (path, options) => mod.pathToRegexp(path, options);
}

export function fastMetadata(original: Middleware, context: OpenApiContext, responseApiDoc: OpenApiContext['apiDoc'] | undefined): Middleware {
  const compile = validatorPathToRegexp();
  const indexes = new Map<string, RouteIndex>();
  return (req, res, next) => {
    const path = req.path.startsWith(req.baseUrl) ? req.path : `${req.baseUrl}/${req.path}`;
    if (context.shouldIgnoreRoute(path)) return original(req, res, next);
    const url = (context.useRequestUrl ? req.url : req.originalUrl).split('?')[0]!;
    const sensitive = Boolean(req.app.enabled('case sensitive routing'));
    const strict = Boolean(req.app.enabled('strict routing'));
    const shape = `${sensitive}/${strict}`;
    let index = indexes.get(shape);
    if (!index) indexes.set(shape, (index = new RouteIndex(context, sensitive)));
    const method = req.method.toLowerCase();
    for (const { expressRoute, methods } of index.candidates(url)) {
      const { regexp, keys } = compile(expressRoute, { sensitive, strict });
      const matched = regexp.exec(url);
      if (!matched) continue;
      const pathKey = methods._openApiRoute.substring(methods.basePath.length);
      const schema = context.apiDoc.paths[pathKey]?.[method];
      if (!schema) break;
      const pathParams: Record<string, string> = {};
      try {
        keys.forEach((k, i) => (pathParams[k.name] = decodeURIComponent(matched[i + 1]!)));
      } catch {
        break;
      }
      Object.assign(req, {
        openapi: {
          expressRoute,
          openApiRoute: methods._openApiRoute,
          pathParams,
          schema,
          serial: context.serial,
          ...(responseApiDoc ? { _responseSchema: responseApiDoc.paths[pathKey]?.[method] } : {}),
        },
      });
      req.params = pathParams;
      return next();
    }
    // No route, a route without this method, or parameters that do not decode: the validator's own answer.
    return original(req, res, next);
  };
}

/** The header names and query parameters a request's credentials can come in; undefined when a scheme reads something else (the shortcut is off). */
function credentialPlaces(apiDoc: OpenApiContext['apiDoc']): { headers: string[]; query: string[] } | undefined {
  const headers = new Set<string>();
  const query = new Set<string>();
  for (const scheme of Object.values(apiDoc.components?.securitySchemes ?? {})) {
    if (scheme.type === 'http') headers.add('authorization');
    else if (scheme.type === 'apiKey' && scheme.in === 'header' && typeof scheme.name === 'string') headers.add(scheme.name.toLowerCase());
    else if (scheme.type === 'apiKey' && scheme.in === 'query' && typeof scheme.name === 'string') query.add(scheme.name);
    // Cookies, OAuth 2 and OpenID Connect: the validator runs their handlers without a check first.
    else return undefined;
  }
  return { headers: [...headers], query: [...query] };
}

const allowsAnonymous = (securities: unknown) =>
  Array.isArray(securities) && securities.some((s) => typeof s === 'object' && s !== null && s.constructor === Object && Object.keys(s).length === 0);

export function fastSecurity(original: Middleware, apiDoc: OpenApiContext['apiDoc']): Middleware {
  const places = credentialPlaces(apiDoc);
  if (!places) return original;
  const anonymousOk = new WeakMap<object, boolean>();
  return (req, res, next) => {
    const openapi = (req as { openapi?: { schema?: { security?: unknown } } }).openapi;
    const schema = openapi?.schema;
    if (!schema || (req as { cookies?: unknown }).cookies !== undefined || (req as { signedCookies?: unknown }).signedCookies !== undefined) return original(req, res, next);
    let anonymous = anonymousOk.get(schema);
    if (anonymous === undefined) anonymousOk.set(schema, (anonymous = allowsAnonymous(schema.security ?? apiDoc.security)));
    if (!anonymous) return original(req, res, next);
    for (const h of places.headers) if (req.headers[h]) return original(req, res, next);
    for (const q of places.query) if ((req.query as Record<string, unknown>)[q]) return original(req, res, next);
    return next();
  };
}

/** Installs both fast paths on the validator's class (idempotent). Call before `OpenApiValidator.middleware()`. */
export function speedUpValidator(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OpenApiValidator } = require('express-openapi-validator/dist/openapi.validator') as { OpenApiValidator: { prototype: ValidatorPrototype } };
  const proto = OpenApiValidator.prototype;
  if (proto.fastPaths) return;
  const metadata = proto.metadataMiddleware;
  const security = proto.securityMiddleware;
  proto.metadataMiddleware = function (this: ValidatorPrototype, context, responseApiDoc) {
    return fastMetadata(metadata.call(this, context, responseApiDoc), context, responseApiDoc);
  };
  proto.securityMiddleware = function (this: ValidatorPrototype, apiDoc) {
    return fastSecurity(security.call(this, apiDoc), apiDoc);
  };
  proto.fastPaths = true;
}
