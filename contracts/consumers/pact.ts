/**
 * What every consumer test shares: the provider's name, where pact files go, and matchers for the
 * contract's shapes. One test file per consumer (storefront.pact.test.ts, admin.pact.test.ts...),
 * each writing one pact file `<consumer>-ecommerce-backend.json`; later consumers and interactions
 * (catalog, cart, orders) add files and states, nothing else.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MatchersV3, PactV4 } from '@pact-foundation/pact';

export const PROVIDER = 'ecommerce-backend';
export const PACT_DIR = join(__dirname, '..', 'pacts');

/** A PactV4 for a consumer, starting from an empty pact file so removed interactions disappear. */
export function pactFor(consumer: string): PactV4 {
  rmSync(join(PACT_DIR, `${consumer}-${PROVIDER}.json`), { force: true });
  return new PactV4({ consumer, provider: PROVIDER, dir: PACT_DIR, logLevel: 'warn' });
}

const { like, integer, string, regex, fromProviderState, iso8601DateTimeWithMillis } = MatchersV3;

export const EXAMPLE_JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5cCI6ImFjY2VzcyJ9.c2lnbmF0dXJlLW9mLXRoZS1leGFtcGxl';
// Patterns are read by Pact's Rust core: Rust regex syntax (no `\/`), matched against the whole value.
const JWT = '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$';

/** A token the provider state hands over (`${name}`), with an example for the consumer side. */
export const injectedToken = (name: string) => fromProviderState(`\${${name}}`, EXAMPLE_JWT);
/** `Authorization: Bearer <token from the provider state>`. */
export const bearer = (name: string) => fromProviderState(`Bearer \${${name}}`, `Bearer ${EXAMPLE_JWT}`);

export const json = { 'Content-Type': regex('^application/json(;.*)?$', 'application/json; charset=utf-8') };
export const problemJson = { 'Content-Type': regex('^application/problem\\+json(;.*)?$', 'application/problem+json; charset=utf-8') };

export const tokenPair = () => ({ access: regex(JWT, EXAMPLE_JWT), refresh: regex(JWT, EXAMPLE_JWT) });

/** The User fields the consumers read. */
export function user(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(42),
    username: string('ada'),
    email: string('ada@example.com'),
    first_name: string('Ada'),
    last_name: string('Lovelace'),
    role: regex('^(customer|vendor|admin)$', 'customer'),
    is_active: like(true),
    date_joined: iso8601DateTimeWithMillis('2026-11-20T09:30:00.000Z'),
    ...overrides,
  };
}

/** A problem+json body with its stable code. */
export function problem(status: number, code: string) {
  return { type: string(`/problems/${code.toLowerCase().replace(/_/g, '-')}`), title: string('Title'), status, code };
}
