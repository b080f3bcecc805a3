/**
 * Where a webhook may be sent when WEBHOOK_ALLOW_PRIVATE_TARGETS is off: public addresses only, so an
 * endpoint URL cannot make the worker reach the shop's own network (the database, the cloud's
 * metadata service at 169.254.169.254, internal services): a server-side request forgery guard.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** ::/96, the deprecated IPv4-compatible IPv6 addresses: ipaddr.js calls them unicast; refused anyway. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * The range of an IP address as ipaddr.js names it (`unicast`: public; `loopback`, `private`,
 * `linkLocal`, `uniqueLocal`...); an IPv4-mapped IPv6 address (::ffff:127.0.0.1) is classified as
 * its IPv4 address. `invalid` for what is not an address.
 */
export function addressRange(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'unicast' && ip.kind() === 'ipv6' && ip.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  return range;
}

/** Whether an address is public (ipaddr.js's `unicast`, nothing else). */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === 'unicast';
}

/** The URL's host, lower-cased, without IPv6 brackets or a trailing dot (null: not a URL). */
function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  } catch {
    return null;
  }
}

/**
 * Why a URL's host is not public as written (null: it may be): a literal IP address outside the
 * public ranges, or `localhost` and its subdomains. Other names are checked when resolved
 * (`publicOnlyLookup`), at each delivery.
 */
export function literalTargetProblem(url: string): string | null {
  const host = hostOf(url);
  if (host === null) return 'it is not a valid URL';
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a local name`;
  if (isIP(host) && !isPublicAddress(host)) return `${host} is in a non-public range (${addressRange(host)})`;
  return null;
}

/** A connection refused before it was made: the host name resolved to an address that is not public. */
export class PrivateTargetError extends Error {
  readonly code = 'ERR_WEBHOOK_PRIVATE_TARGET';
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, in a non-public range (${addressRange(address)})`);
    this.name = 'PrivateTargetError';
  }
}

/**
 * A `lookup` for node:net: resolves EVERY address of the name (both families) and refuses the
 * connection (PrivateTargetError) if any one is not public; otherwise answers the addresses that
 * were checked, so the socket connects to one of them and a second resolution (DNS rebinding)
 * never happens. (node:net does not call it for a literal IP: see `literalTargetProblem`.)
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: 0, hints: options.hints }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new PrivateTargetError(hostname, refused.address), '', 0);
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const wanted = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
    if (wanted.length === 0) {
      const none = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      return callback(none, '', 0);
    }
    if (options.all) return callback(null, wanted);
    callback(null, wanted[0]!.address, wanted[0]!.family);
  });
};
