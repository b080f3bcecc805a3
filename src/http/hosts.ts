import type { Request, RequestHandler } from 'express';
import { DomainError } from '../shared/errors';

/**
 * Which hosts links may be built on. Answers carry absolute links (`next`/`previous`, `Location`,
 * the API root); built from a Host header an attacker chose, a shared cache would hand the
 * attacker's links to everyone. So:
 *
 * - with PUBLIC_URL, links are always built on it, whatever the request says;
 * - otherwise on the request's host (Host, or X-Forwarded-Host when TRUST_PROXY trusts the proxy),
 *   which must be one of ALLOWED_HOSTS: any other is refused with 400 DISALLOWED_HOST before
 *   anything runs (the health probes excepted: they build no link, and orchestrators call them by
 *   address).
 */

/** `example.com` (that host), `.example.com` (it and its subdomains), `127.0.0.1`, `[::1]`. */
export const HOST_PATTERN = /^(?:\.?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;

/** The host name of a Host header value (`Shop.Example.com:8443` → `shop.example.com`), or null when it is not one. */
export function hostnameOf(host: string | undefined): string | null {
  if (!host) return null;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return null;
  const name = m[1]!.toLowerCase().replace(/\.$/, '');
  return HOST_PATTERN.test(name) && !name.startsWith('.') ? name : null;
}

/** Whether a host name is allowed: equal to an entry, or under a `.example.com` entry. */
export function isAllowedHost(hostname: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => (entry.startsWith('.') ? hostname === entry.slice(1) || hostname.endsWith(entry) : hostname === entry));
}

/**
 * Refuses requests for hosts outside `allowed` (null: any host, because links never use it) with
 * 400 DISALLOWED_HOST. `exempt` paths (the probes) pass.
 */
export function refuseDisallowedHosts(allowed: readonly string[] | null, exempt: ReadonlySet<string>): RequestHandler {
  return (req, _res, next) => {
    if (allowed === null || exempt.has(req.path)) return next();
    const hostname = hostnameOf(req.host);
    if (hostname !== null && isAllowedHost(hostname, allowed)) return next();
    next(
      new DomainError('invalid', 'DISALLOWED_HOST', 'The request names a host this server does not serve.', {
        errors: [{ field: 'header.Host', message: 'is not one of the hosts this server serves (ALLOWED_HOSTS)' }],
      }),
    );
  };
}

/**
 * The base of absolute links: PUBLIC_URL when set, else the request's scheme and host (checked by
 * `refuseDisallowedHosts` before any handler runs). A scheme other than http or https from a
 * trusted proxy's X-Forwarded-Proto is not believed.
 */
export function baseUrlOf(req: Request, publicUrl?: string): string {
  if (publicUrl) return publicUrl;
  const protocol = req.protocol === 'https' ? 'https' : 'http';
  return `${protocol}://${req.host ?? ''}`;
}
