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

const { like, eachLike, integer, string, regex, boolean, nullValue, fromProviderState, iso8601DateTimeWithMillis } = MatchersV3;

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

/** An id the provider state hands over (`${name}`), as a JSON number. */
export const injectedId = (name: string, example = 42) => fromProviderState(`\${${name}}`, example);

/** Money: a decimal string with exactly two decimals, never a JSON number. */
export const money = (example = '19.99') => regex('^[0-9]+\\.[0-9]{2}$', example);
const currency = () => regex('^[A-Z]{3}$', 'USD');
const timestamp = (example = '2026-11-20T09:30:00.000Z') => iso8601DateTimeWithMillis(example);

/** The fields of a product row in lists that the storefront's product grid reads. */
export function productSummary(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(7),
    name: string('Trail runner'),
    slug: string('trail-runner'),
    brand: string('Stride'),
    category: integer(12),
    price: money('24.90'),
    price_range: { min: money('24.90'), max: money('29.90') },
    currency: currency(),
    stock: integer(25),
    in_stock: boolean(true),
    rating: { average: regex('^[0-5]\\.[0-9]{2}$', '4.50'), count: integer(12) },
    ...overrides,
  };
}

/** A variant as the admin console reads it (attributes, when it reads them, are the interaction's). */
export function variant(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(41),
    product: integer(7),
    sku: string('SHOE-RED-42'),
    name: string('Red / 42'),
    price: money('89.90'),
    currency: currency(),
    stock: integer(5),
    in_stock: boolean(true),
    is_active: boolean(true),
    ...overrides,
  };
}

/** A product with its breadcrumbs and variants (the product page, the admin console's editor). */
export function productDetail(overrides: Record<string, unknown> = {}) {
  return {
    ...productSummary(),
    description: string('Light and fast.'),
    sku: string('TRAIL-RUNNER'),
    vendor: integer(5),
    images: eachLike(string('https://cdn.example.com/trail-runner.jpg')),
    is_active: boolean(true),
    breadcrumbs: eachLike({ id: integer(3), name: string('Shoes'), slug: string('shoes') }),
    variants: eachLike(variant()),
    created_at: timestamp(),
    updated_at: timestamp(),
    ...overrides,
  };
}

/** The cart as the storefront's cart page reads it. */
export function cart(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(3),
    items: eachLike({
      id: integer(9),
      variant: { id: integer(41), sku: string('SHOE-RED-42'), name: string('Red / 42') },
      product: { id: integer(7), name: string('Trail runner'), slug: string('trail-runner') },
      unit_price: money('89.90'),
      quantity: integer(2),
      line_total: money('179.80'),
      available: integer(5),
      problem: nullValue(),
    }),
    item_count: integer(2),
    subtotal: money('179.80'),
    discount: money('0.00'),
    total: money('179.80'),
    currency: currency(),
    ...overrides,
  };
}

/** An order as the checkout's confirmation page reads it. */
export function order(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(12),
    status: 'pending_payment',
    payment_status: 'unpaid',
    items: eachLike({
      id: integer(30),
      product: integer(7),
      variant: integer(41),
      product_name: string('Trail runner'),
      variant_name: string('Red / 42'),
      unit_price: money('89.90'),
      quantity: integer(2),
      line_total: money('179.80'),
    }),
    shipping_address: {
      recipient_name: string('Ada Lovelace'),
      line1: string("12 St James's Square"),
      city: string('London'),
      postal_code: string('SW1Y 4JH'),
      country: regex('^[A-Z]{2}$', 'GB'),
    },
    subtotal: money('179.80'),
    discount: money('0.00'),
    total: money('179.80'),
    currency: currency(),
    expires_at: timestamp('2026-11-20T09:45:00.000Z'),
    created_at: timestamp(),
    ...overrides,
  };
}

/** A payment attempt as the payment page reads it. */
export function payment(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(5),
    order: integer(12),
    method: 'card',
    amount: money('179.80'),
    currency: currency(),
    status: regex('^(pending|succeeded|failed|refunded)$', 'succeeded'),
    ...overrides,
  };
}

/** An order's shipment as the tracking page reads it. */
export function shipment(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(2),
    order: integer(12),
    carrier: string('DHL'),
    tracking_number: string('JD014600006281234567'),
    status: regex('^(pending|shipped|in_transit|delivered|returned)$', 'shipped'),
    shipped_at: timestamp(),
    ...overrides,
  };
}

/** A category as the admin console reads it. */
export function category(overrides: Record<string, unknown> = {}) {
  return {
    id: integer(12),
    name: string('Running shoes'),
    slug: regex('^[a-z0-9]+(-[a-z0-9]+)*$', 'running-shoes'),
    description: string('Shoes for the road and the trail.'),
    parent: nullValue(),
    is_active: boolean(true),
    created_at: timestamp(),
    ...overrides,
  };
}
