import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';

type Directives = NonNullable<Parameters<typeof helmet.contentSecurityPolicy>[0]>['directives'];

/**
 * Whether a request is served over https: PUBLIC_URL is https (the public address is TLS, whatever
 * the hop to us), or the request itself is secure (TLS here, or X-Forwarded-Proto: https from a
 * proxy TRUST_PROXY trusts).
 */
export function servedOverHttps(req: Request, publicUrl?: string): boolean {
  return publicUrl ? publicUrl.startsWith('https:') : req.secure;
}

/**
 * Picks one of two prepared middlewares per request: the https one or the plain-http one. Over
 * plain http a page must not carry `upgrade-insecure-requests` (the browser would rewrite every
 * script, style and fetch of the page to https://, which nothing answers on a LAN address, a VM or
 * the compose nginx on port 80: Swagger UI blank, GraphiQL unable to fetch) nor HSTS.
 */
function perScheme(overHttps: RequestHandler, overHttp: RequestHandler, publicUrl?: string): RequestHandler {
  return (req, res, next) => (servedOverHttps(req, publicUrl) ? overHttps : overHttp)(req, res, next);
}

/**
 * Helmet's headers for every answer: its defaults over https; over plain http without
 * `upgrade-insecure-requests`, HSTS and Cross-Origin-Opener-Policy (browsers ignore the last two
 * on an insecure origin, and log an error in the page's console for COOP).
 */
export function securityHeaders(publicUrl?: string): RequestHandler {
  return perScheme(
    fixedHeaders(helmet()),
    fixedHeaders(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false, crossOriginOpenerPolicy: false })),
    publicUrl,
  );
}

/**
 * Helmet's headers do not depend on the request (no nonces here): they are read once, by running
 * its middleware on a stand-in response, and set as a list on every answer. Helmet itself runs a
 * chain of a dozen middlewares per request (~3% of the CPU of a product list).
 */
function fixedHeaders(middleware: (req: never, res: never, next: (err?: unknown) => void) => void): RequestHandler {
  const set: [string, string | number | readonly string[]][] = [];
  const removed: string[] = [];
  let done = false;
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => void set.push([name, value]),
    removeHeader: (name: string) => void removed.push(name),
    getHeader: () => undefined,
  };
  middleware({ headers: {}, method: 'GET', url: '/' } as never, res as never, (err) => {
    if (err) throw err;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously: its headers cannot be fixed in advance');
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}

/**
 * A page's own Content-Security-Policy (helmet's defaults with `directives` on top), with
 * `upgrade-insecure-requests` only when the page is served over https.
 */
export function pageCsp(directives: Directives, publicUrl?: string): RequestHandler {
  return perScheme(
    helmet.contentSecurityPolicy({ directives }),
    helmet.contentSecurityPolicy({ directives: { ...directives, upgradeInsecureRequests: null } }),
    publicUrl,
  );
}
