import { memoizeValidatorRouteCompilation } from '../../src/http/route-cache';

describe('memoizeValidatorRouteCompilation', () => {
  // The instance the validator loads (see src/http/route-cache.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] })) as {
    pathToRegexp: (p: string, o?: object) => { regexp: RegExp; keys: { name: string }[] };
  };

  it('compiles a route once per options and matches exactly as before', () => {
    const original = mod.pathToRegexp;
    const fresh = original('/api/product/:id/', { sensitive: false, strict: false });
    memoizeValidatorRouteCompilation();
    memoizeValidatorRouteCompilation(); // idempotent
    const a = mod.pathToRegexp('/api/product/:id/', { sensitive: false, strict: false });
    const b = mod.pathToRegexp('/api/product/:id/', { sensitive: false, strict: false });
    const strict = mod.pathToRegexp('/api/product/:id/', { sensitive: false, strict: true });
    expect(a).toBe(b);
    expect(strict).not.toBe(a);
    expect(a.keys.map((k) => k.name)).toEqual(fresh.keys.map((k) => k.name));
    for (const path of ['/api/product/12/', '/api/product/12', '/api/product/', '/api/product/12/x/']) {
      expect(a.regexp.exec(path)?.slice(1)).toEqual(fresh.regexp.exec(path)?.slice(1));
    }
  });
});
