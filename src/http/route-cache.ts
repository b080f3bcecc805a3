/**
 * express-openapi-validator looks the request's operation up by compiling every route of the
 * contract with path-to-regexp, on every request (`lookupRoute` in its openapi.metadata.js): with
 * forty routes that is ~0.4 ms of CPU per request, more than the rest of the stack together. The
 * compiled matcher depends only on the route and the options, so it is memoised here, once per
 * process, on the path-to-regexp module the validator loads. (path-to-regexp's regexps carry no
 * `g` flag, so sharing one is safe.)
 */
type Compile = ((path: unknown, options?: unknown) => unknown) & { memoized?: true };

export function memoizeValidatorRouteCompilation(): void {
  const validator = require.resolve('express-openapi-validator');
  // The validator's own copy of path-to-regexp, patched in place: only require() from its location reaches that instance.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(require.resolve('path-to-regexp', { paths: [validator] })) as { pathToRegexp: Compile };
  if (mod.pathToRegexp.memoized) return;
  const compile = mod.pathToRegexp;
  // One map per option shape the validator passes ({ sensitive, strict }: four of them), keyed by the
  // route alone: the lookup runs once per route on every request, so it must not build a key string.
  const bySimpleOptions = [new Map<string, unknown>(), new Map<string, unknown>(), new Map<string, unknown>(), new Map<string, unknown>()];
  const byOtherOptions = new Map<string, unknown>();
  const memoized: Compile = (path, options) => {
    if (typeof path !== 'string') return compile(path, options);
    const o = (options ?? {}) as Record<string, unknown>;
    let simple = true;
    for (const k in o) if (k !== 'sensitive' && k !== 'strict') simple = false;
    const cache = simple ? bySimpleOptions[(o.sensitive ? 1 : 0) + (o.strict ? 2 : 0)]! : byOtherOptions;
    const key = simple ? path : `${path}\u0000${JSON.stringify(o)}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = compile(path, options);
      cache.set(key, compiled);
    }
    return compiled;
  };
  memoized.memoized = true;
  mod.pathToRegexp = memoized;
}
