import spec from '../../generated/openapi.bundle.json';
import { fastMetadata, fastSecurity, type OpenApiContext } from '../../src/http/validator-fast-paths';
import { memoizeValidatorRouteCompilation } from '../../src/http/route-cache';

/* eslint-disable @typescript-eslint/no-require-imports */
const { OpenApiSpecLoader } = require('express-openapi-validator/dist/framework/openapi.spec.loader') as {
  OpenApiSpecLoader: new (o: object) => { load(): Promise<unknown> };
};
const { OpenApiContext: Context } = require('express-openapi-validator/dist/framework/openapi.context') as {
  OpenApiContext: new (spec: unknown, ignorePaths: unknown, ignoreUndocumented: boolean, useRequestUrl: boolean) => OpenApiContext;
};
const { applyOpenApiMetadata } = require('express-openapi-validator/dist/middlewares/openapi.metadata') as {
  applyOpenApiMetadata: (context: OpenApiContext, responseApiDoc: unknown) => Middleware;
};
const { security } = require('express-openapi-validator/dist/middlewares/openapi.security') as {
  security: (apiDoc: unknown, handlers: Record<string, (req: FakeRequest) => boolean>) => Middleware;
};
/* eslint-enable @typescript-eslint/no-require-imports */

type Middleware = (req: never, res: never, next: (err?: unknown) => void) => unknown;
interface FakeRequest {
  path: string;
  baseUrl: string;
  url: string;
  originalUrl: string;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  params?: unknown;
  openapi?: unknown;
  app: { enabled(setting: string): boolean };
}

const request = (method: string, url: string, o: { sensitive?: boolean; headers?: Record<string, string>; query?: Record<string, string> } = {}): FakeRequest => ({
  path: url.split('?')[0]!,
  baseUrl: '',
  url,
  originalUrl: url,
  method,
  headers: o.headers ?? {},
  query: o.query ?? {},
  app: { enabled: (setting) => setting === 'case sensitive routing' && Boolean(o.sensitive) },
});

/** What a middleware did with a request: passed it on (with which metadata), failed it (how), or threw. */
async function outcome(mw: Middleware, req: FakeRequest): Promise<unknown> {
  try {
    const passed = await new Promise<unknown>((resolve) => {
      void mw(req as never, {} as never, (err?: unknown) => resolve(err));
    });
    const err = passed as { status?: number; message?: string; headers?: unknown } | undefined;
    return { error: err && { status: err.status, message: err.message, headers: err.headers }, openapi: req.openapi, params: req.params };
  } catch (thrown) {
    const err = thrown as { status?: number; message?: string; headers?: unknown };
    return { thrown: { status: err.status, message: err.message, headers: err.headers } };
  }
}

describe('the validator fast paths', () => {
  let context: OpenApiContext;
  beforeAll(async () => {
    memoizeValidatorRouteCompilation();
    const loaded = await new OpenApiSpecLoader({ apiDoc: structuredClone(spec), validateApiSpec: false }).load();
    context = new Context(loaded, undefined, false, false);
  });

  it('look every operation up exactly as the validator does: route, parameters, 404, 405, undecodable parameters', async () => {
    const original = applyOpenApiMetadata(context, undefined);
    const fast = fastMetadata(original as never, context, undefined);
    const paths = Object.keys(spec.paths);
    const urls = new Set<string>(['/', '/api', '/api/', '/API/PRODUCT/', '/api/nothing/here/', '/docs/', '/api/product/12/extra/', '/apix/product/']);
    for (const path of paths) {
      for (const value of ['12', 'abc', 'a%20b', '%E0%A4%A', 'facets']) {
        const url = path.replace(/\{[^}]+\}/g, value);
        urls.add(url);
        urls.add(url.replace(/\/$/, ''));
        urls.add(url.toUpperCase());
      }
    }
    let compared = 0;
    for (const url of urls) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        for (const sensitive of [false, true]) {
          const expected = await outcome(original, request(method, url, { sensitive }));
          expect({ method, url, sensitive, got: await outcome(fast, request(method, url, { sensitive })) }).toEqual({ method, url, sensitive, got: expected });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(paths.length * 30);
  });

  it('lets an anonymous caller through where the contract allows one, and leaves every other case to the validator', async () => {
    const apiDoc = context.apiDoc;
    const seen: string[] = [];
    const handlers = {
      bearerAuth: (req: FakeRequest) => (seen.push(`bearer ${req.headers.authorization}`), req.headers.authorization === 'Bearer good'),
      cartToken: (req: FakeRequest) => (seen.push(`cart ${req.headers['x-cart-token']}`), req.headers['x-cart-token'] === 'good'),
    };
    const original = security(apiDoc, handlers);
    const fast = fastSecurity(original as never, apiDoc as never);
    const withMetadata = async (method: string, url: string, headers: Record<string, string> = {}) => {
      const req = request(method, url, { headers });
      await outcome(applyOpenApiMetadata(context, undefined), req);
      return req;
    };
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/api/product/', {}],
      ['GET', '/api/product/', { authorization: 'Bearer good' }],
      ['GET', '/api/product/', { authorization: 'Bearer bad' }],
      ['GET', '/api/product/', { authorization: 'Basic x' }],
      ['GET', '/api/product/12/', {}],
      ['GET', '/api/auth/me/', {}],
      ['GET', '/api/auth/me/', { authorization: 'Bearer good' }],
      ['GET', '/api/cart/', {}],
      ['GET', '/api/cart/', { 'x-cart-token': 'good' }],
      ['GET', '/api/cart/', { 'x-cart-token': 'bad' }],
    ];
    for (const [method, url, headers] of cases) {
      seen.length = 0;
      const expected = await outcome(original, await withMetadata(method, url, headers));
      const calledBefore = [...seen];
      seen.length = 0;
      expect({ url, headers, got: await outcome(fast, await withMetadata(method, url, headers)) }).toEqual({ url, headers, got: expected });
      expect(seen).toEqual(calledBefore);
    }
    // The anonymous list answer really took the shortcut: no handler ran, the validator threw nothing.
    seen.length = 0;
    expect(await outcome(fast, await withMetadata('GET', '/api/product/'))).toMatchObject({ error: undefined });
    expect(seen).toEqual([]);
  });
});
