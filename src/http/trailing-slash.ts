import type { RequestHandler } from 'express';
import { pathPattern } from './contract';

/**
 * Every path of the contract ends with a slash (`/api/product/`). A request for one without it
 * (`GET /api/product`, as most people first type it) is redirected with 308 (method and body kept)
 * to the slashed path, query string included; a path that matches nothing either way is left to
 * the contract's 404.
 */
export function redirectToSlashedPaths(paths: Iterable<string>): RequestHandler {
  const slashed = [...new Set(paths)].filter((p) => p.endsWith('/')).map(pathPattern);
  return (req, res, next) => {
    const path = req.path;
    if (path.endsWith('/') || !slashed.some((re) => re.test(`${path}/`))) return next();
    const query = req.originalUrl.slice(req.originalUrl.indexOf('?') >= 0 ? req.originalUrl.indexOf('?') : req.originalUrl.length);
    res.redirect(308, `${req.baseUrl}${path}/${query}`);
  };
}
