import { createHash } from 'node:crypto';
import type { components } from '../../../generated/openapi';
import { operationIndex, type OperationId } from '../../../generated/operations';
import { createApiClient } from '../../../generated/sdk/index';
import { declaredCodes } from '../../../src/http/problem';
import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { makeProduct, type MadeProduct } from '../../support/catalog';
import { openShop, type Shop, stockOf } from '../../support/checkout';
import { session } from '../../support/database-probes';
import { actor, login, registerCustomer, sql } from '../../support/factories';
import { codes, gql } from '../../support/graphql';
import { rawRequest } from '../../support/raw-http';
import { sampleRequest } from '../../support/sample-requests';

/**
 * Guest checkout (issue 14): a cart token instead of an account, checkout with an email and an
 * address written out, the order read and paid with the same token, and found again by its number
 * and email. Every refusal by its code, and nothing changed after one.
 */
type GuestOrderCreate = components['schemas']['GuestOrderCreate'];

let app: TestApp;
let shop: Shop;
let colissimo: number;
let ground: number;
beforeAll(async () => {
  app = await startApp({ GUEST_CARTS_PER_HOUR: '100000', GUEST_ORDERS_PER_HOUR: '100000', LOOKUP_MAX_FAILURES: '3', TRUST_PROXY: 'true' });
  shop = await openShop(app);
  const admin = shop.admin.api;
  const fr = (await admin.POST('/api/shipping-zone/', { body: { name: 'France', areas: [{ country: 'FR' }], shipping_taxable: true } })).data!;
  colissimo = (await admin.POST('/api/shipping-method/', { body: { zone: fr.id, name: 'Colissimo', rate_type: 'flat', flat_price: '4.90' } })).data!.id;
  const us = (await admin.POST('/api/shipping-zone/', { body: { name: 'USA', areas: [{ country: 'US' }] } })).data!;
  ground = (await admin.POST('/api/shipping-method/', { body: { zone: us.id, name: 'Ground', rate_type: 'flat', flat_price: '7.00' } })).data!.id;
  await admin.POST('/api/tax-rate/', { body: { country: 'FR', rate: '20', name: 'TVA' } });
});
afterAll(() => app.close());

const product = (price = '10.00', stock = 10): Promise<MadeProduct> => makeProduct(shop.vendor, shop.category, { price, stock });

/** A new guest: its token and an SDK client sending it (from `address`, when given, as the client's address). */
async function guest(address?: string) {
  const forwarded: Record<string, string> = address ? { 'X-Forwarded-For': address } : {};
  const res = await createApiClient({ baseUrl: app.baseUrl, headers: forwarded }).POST('/api/cart/guest/');
  expect(res.response.status).toBe(201);
  const token = res.data!.cart_token;
  return { token, cart: res.data!.cart, api: createApiClient({ baseUrl: app.baseUrl, headers: { 'X-Cart-Token': token, ...forwarded } }) };
}
type Guest = Awaited<ReturnType<typeof guest>>;

async function add(g: Guest, variant: number, quantity = 1) {
  const res = await g.api.POST('/api/cart/add/', { body: { variant, quantity } });
  if (res.response.status !== 200) throw new Error(JSON.stringify(res.error));
  return res.data!;
}

const paris = { recipient_name: 'Grace Hopper', line1: '1 Rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' };
const checkout = (g: Guest, body: Partial<GuestOrderCreate> = {}, key?: string) =>
  g.api.POST('/api/order/guest/', { body: { email: 'grace@example.com', shipping_address: paris, ...body }, params: key ? { header: { 'Idempotency-Key': key } } : {} });

const ordersOf = (email: string) => sql<{ id: number }>(app, 'select id from orders where guest_email = ? order by id', [email]);
const cartLines = (token: string) =>
  sql<{ variant_id: number; quantity: number }>(
    app,
    'select i.variant_id, i.quantity from cart_items i join carts c on c.id = i.cart_id where c.token_hash = ? order by i.id',
    [createHash('sha256').update(token).digest('hex')],
  );

describe('a guest cart', () => {
  it('is created with a token shown once (only its SHA-256 is stored), and priced by country instead of an address', async () => {
    const g = await guest();
    expect(g.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(g.cart).toMatchObject({ items: [], total: '0.00', shipping_address: null });
    const [row] = await sql<{ user_id: number | null; token_hash: string }>(app, 'select user_id, token_hash from carts where id = ?', [g.cart.id]);
    expect(row).toEqual({ user_id: null, token_hash: createHash('sha256').update(g.token).digest('hex') });

    const p = await product('10.00');
    await add(g, p.variants[0].id, 2);
    const cart = (await g.api.GET('/api/cart/', { params: { query: { country: 'FR' } } })).data!;
    expect(cart).toMatchObject({ subtotal: '20.00', tax: '4.00', shipping: null, total: '24.00', shipping_address: null });
    const shipped = (await g.api.GET('/api/cart/', { params: { query: { country: 'FR', shipping_method: colissimo } } })).data!;
    // 20% on the goods (4.00) and on the taxed shipping (0.98).
    expect(shipped).toMatchObject({ subtotal: '20.00', shipping: '4.90', tax: '4.98', total: '29.88' });
    const options = (await g.api.GET('/api/cart/shipping-options/', { params: { query: { country: 'FR' } } })).data!;
    expect(options).toMatchObject({ address: null, country: 'FR', region: '', options: [{ id: colissimo, price: '4.90' }] });
    expect((await g.api.GET('/api/cart/shipping-options/', { params: { query: { country: 'JP' } } })).data!.options).toEqual([]);
  });

  it('refuses an address with a country, a region alone, neither for shipping options (400 naming the field), and an address for a guest (422)', async () => {
    const g = await guest();
    const both = await g.api.GET('/api/cart/', { params: { query: { country: 'FR', address: 1 } } });
    expect(both.error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'query.country' }] });
    const region = await g.api.GET('/api/cart/', { params: { query: { region: 'CA' } } });
    expect(region.error).toMatchObject({ status: 400, errors: [{ field: 'query.region' }] });
    const neither = await g.api.GET('/api/cart/shipping-options/');
    expect(neither.error).toMatchObject({ status: 400, errors: [{ field: 'query.address' }] });
    const method = await g.api.GET('/api/cart/', { params: { query: { shipping_method: colissimo } } });
    expect(method.error).toMatchObject({ status: 400, errors: [{ field: 'query.shipping_method' }] });
    const address = await g.api.GET('/api/cart/', { params: { query: { address: 1 } } });
    expect(address.error).toMatchObject({ status: 422, code: 'UNKNOWN_ADDRESS' });
  });

  it('keeps guests apart: one token never sees another cart; a signed-in caller uses their own cart whatever token is sent', async () => {
    const [a, b] = [await guest(), await guest()];
    const p = await product();
    await add(a, p.variants[0].id, 3);
    const line = (await a.api.GET('/api/cart/')).data!.items[0]!.id;
    expect((await b.api.GET('/api/cart/')).data!.items).toEqual([]);
    expect((await b.api.DELETE('/api/cart/remove/{item_id}/', { params: { path: { item_id: line } } })).error).toMatchObject({ status: 404 });
    const user = await actor(app);
    const both = createApiClient({ baseUrl: app.baseUrl, token: user.tokens.access, headers: { 'X-Cart-Token': a.token } });
    expect((await both.GET('/api/cart/')).data!.items).toEqual([]);
    expect(await cartLines(a.token)).toEqual([{ variant_id: p.variants[0].id, quantity: 3 }]);
  });

  it('answers 401 INVALID_CART_TOKEN for a token that names no cart, and 401 NOT_AUTHENTICATED without one', async () => {
    const bogus = createApiClient({ baseUrl: app.baseUrl, headers: { 'X-Cart-Token': 'A'.repeat(43) } });
    expect((await bogus.GET('/api/cart/')).error).toMatchObject({ status: 401, code: 'INVALID_CART_TOKEN' });
    expect((await app.api.GET('/api/cart/')).error).toMatchObject({ status: 401, code: 'NOT_AUTHENTICATED' });
  });

  it('refuses a code limited per customer (422 COUPON_NEEDS_ACCOUNT) and takes any other', async () => {
    const g = await guest();
    const p = await product();
    await add(g, p.variants[0].id);
    const limited = (await shop.admin.api.POST('/api/discount/', { body: { code: `ONCE${Date.now()}`, kind: 'fixed', value: '1', max_uses_per_user: 1 } })).data!;
    expect((await g.api.POST('/api/cart/coupon/', { body: { code: limited.code } })).error).toMatchObject({ status: 422, code: 'COUPON_NEEDS_ACCOUNT' });
    expect((await g.api.GET('/api/cart/')).data!.coupon).toBeNull();
    const plain = (await shop.admin.api.POST('/api/discount/', { body: { code: `PLAIN${Date.now()}`, kind: 'fixed', value: '1' } })).data!;
    expect((await g.api.POST('/api/cart/coupon/', { body: { code: plain.code } })).data).toMatchObject({ coupon: plain.code, discount: '1.00', total: '9.00' });
    const order = await checkout(g);
    expect(order.data).toMatchObject({ coupon: plain.code, discount: '1.00' });
    expect(await sql(app, 'select user_id from discount_redemptions where order_id = ?', [order.data!.id])).toEqual([{ user_id: null }]);
  });
});

describe('guest checkout', () => {
  it('places the order with shipping and tax, empties the cart; the token reads, pays and cancels only its own orders', async () => {
    const g = await guest();
    const p = await product('10.00', 10);
    await add(g, p.variants[0].id, 2);
    const placed = await checkout(g, { email: 'Grace@Example.com', shipping_method: colissimo });
    expect(placed.response.status).toBe(201);
    const order = placed.data!;
    expect(placed.response.headers.get('location')).toBe(`${app.baseUrl}/api/order/${order.id}/`);
    expect(order).toMatchObject({
      user: null, email: 'Grace@Example.com', status: 'pending_payment', subtotal: '20.00', shipping: '4.90', tax: '4.98', total: '29.88',
      shipping_address: { recipient_name: 'Grace Hopper', line1: '1 Rue de Rivoli', line2: '', region: '', phone: null, country: 'FR' },
      shipping_method: { id: colissimo, name: 'Colissimo' },
    });
    expect(await stockOf(app, p.variants[0].id)).toBe(8);
    expect(await cartLines(g.token)).toEqual([]);

    expect((await g.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data).toMatchObject({ id: order.id, total: '29.88' });
    const other = await guest();
    expect((await other.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 404 });
    expect((await other.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 404 });
    expect((await other.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } })).error).toMatchObject({ status: 404 });
    expect((await app.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 401, code: 'NOT_AUTHENTICATED' });
    const someone = await actor(app);
    expect((await someone.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 404 });

    const paid = await g.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } });
    expect(paid.response.status).toBe(201);
    expect(paid.data).toMatchObject({ order: order.id, amount: '29.88' });
    const status = await g.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } });
    expect(status.data).toMatchObject({ order: order.id, payment_status: 'paid' });
    const shipped = await shop.admin.api.POST('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } }, body: { carrier: 'La Poste', tracking_number: 'LP123456789FR' } });
    expect(shipped.response.status).toBe(201);
    expect((await g.api.GET('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } } })).data).toMatchObject({ order: order.id, tracking_number: 'LP123456789FR' });
    expect((await other.api.GET('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } } })).error).toMatchObject({ status: 404 });

    const second = await guest();
    await add(second, p.variants[0].id, 1);
    const unpaid = (await checkout(second, { email: 'ada@example.com' })).data!;
    const cancelled = await second.api.POST('/api/order/{id}/cancel/', { params: { path: { id: unpaid.id } } });
    expect(cancelled.data).toMatchObject({ status: 'cancelled' });
    // Its unit came back.
    expect(await stockOf(app, p.variants[0].id)).toBe(8);
  });

  it('mails the guest at the email it gave', async () => {
    const g = await guest();
    const p = await product();
    await add(g, p.variants[0].id);
    const email = `mail-${Date.now()}@example.com`;
    expect((await checkout(g, { email })).response.status).toBe(201);
    const jobs = await sql<{ to: string }>(app, `select data->>'to' as to from pgboss.job where name = 'mail.send' and data->>'to' = ?`, [email]);
    expect(jobs).toHaveLength(1);
  });

  it('places one order from two concurrent checkouts of one cart (409 CART_EMPTY for the other); a key answers the same order again', async () => {
    const g = await guest();
    const p = await product('5.00', 10);
    await add(g, p.variants[0].id, 2);
    const email = `race-${Date.now()}@example.com`;
    const results = await Promise.all([checkout(g, { email }), checkout(g, { email })]);
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.response.status === 409)!.error).toMatchObject({ code: 'CART_EMPTY' });
    expect(await ordersOf(email)).toHaveLength(1);
    expect(await stockOf(app, p.variants[0].id)).toBe(8);

    const k = await guest();
    await add(k, p.variants[0].id, 1);
    const keyed = `keyed-${Date.now()}@example.com`;
    const first = await checkout(k, { email: keyed }, 'guest-key-1');
    const again = await checkout(k, { email: keyed }, 'guest-key-1');
    expect(first.response.status).toBe(201);
    expect(again.data!.id).toBe(first.data!.id);
    const reused = await checkout(k, { email: 'other@example.com' }, 'guest-key-1');
    expect(reused.error).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await ordersOf(keyed)).toHaveLength(1);
  });

  it('answers 409 IDEMPOTENCY_CONFLICT while a request with the same key is under way, and places nothing', async () => {
    const g = await guest();
    const p = await product('5.00', 10);
    await add(g, p.variants[0].id);
    const holder = await session(app.databaseUrl);
    try {
      await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [`idempotency:cart-${g.cart.id}:order:busy-key`]);
      expect((await checkout(g, {}, 'busy-key')).error).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' });
    } finally {
      await holder.end();
    }
    expect(await cartLines(g.token)).toHaveLength(1);
    expect(await stockOf(app, p.variants[0].id)).toBe(10);
  });

  it('refuses each problem by its code and changes nothing', async () => {
    const p = await product('10.00', 5);
    const email = `refused-${Date.now()}@example.com`;
    const refusals: [string, (g: Guest) => Promise<Partial<GuestOrderCreate>>, number, string][] = [
      ['an empty cart', async () => ({}), 409, 'CART_EMPTY'],
      ['more than the stock', async () => (await sql(app, 'update product_variants set stock = 1 where id = ?', [p.variants[0].id]), {}), 409, 'INSUFFICIENT_STOCK'],
      ['a withdrawn product', async () => (await shop.vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } }), {}), 409, 'CART_HAS_UNAVAILABLE_ITEMS'],
      ['a country nothing ships to', async () => ({ shipping_address: { ...paris, country: 'JP' } }), 422, 'NO_SHIPPING_METHOD'],
      ['a method that does not serve the country', async () => ({ shipping_method: ground }), 422, 'UNKNOWN_SHIPPING_METHOD'],
    ];
    for (const [what, arrange, status, code] of refusals) {
      const g = await guest();
      if (code !== 'CART_EMPTY') await add(g, p.variants[0].id, 2);
      const body = await arrange(g);
      const res = await checkout(g, { email, ...body });
      expect([what, res.error]).toEqual([what, expect.objectContaining({ status, code })]);
      expect(await cartLines(g.token)).toHaveLength(code === 'CART_EMPTY' ? 0 : 1);
      await sql(app, 'update product_variants set stock = 5 where id = ?', [p.variants[0].id]);
      await shop.vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: true } });
    }
    expect(await ordersOf(email)).toEqual([]);
    expect(await stockOf(app, p.variants[0].id)).toBe(5);
  });

  it('refuses a cart no order can hold (422 CART_TOTAL_LIMIT)', async () => {
    const [p, q] = [await product('1.00', 10), await product('1.00', 10)];
    const g = await guest();
    await add(g, p.variants[0].id);
    await add(g, q.variants[0].id);
    const vendor = { id: shop.vendor.user.id, username: shop.vendor.user.username, role: 'vendor' as const };
    for (const v of [p, q]) await app.services.products.updateVariant(app.orm.em.fork(), vendor, v.variants[0].id, { price: '9999999999.99' });
    expect((await checkout(g)).error).toMatchObject({ status: 422, code: 'CART_TOTAL_LIMIT' });
    expect(await cartLines(g.token)).toHaveLength(2);
    expect(await stockOf(app, p.variants[0].id)).toBe(10);
  });

  it('refuses each coupon problem by its code, a per-customer code with COUPON_NEEDS_ACCOUNT', async () => {
    const discount = async (body: Partial<components['schemas']['DiscountCreate']>) =>
      (await shop.admin.api.POST('/api/discount/', { body: { code: `G${Date.now()}${Math.floor(Math.random() * 1e6)}`, kind: 'fixed', value: '1', ...body } })).data!.code;
    const p = await product('10.00', 50);
    const exhausted = await discount({ max_uses: 1 });
    await sql(app, 'update discounts set times_used = 1 where code = ?', [exhausted]);
    const cases: [() => Promise<string>, string][] = [
      [async () => 'NO-SUCH-CODE', 'UNKNOWN_COUPON'],
      [() => discount({ is_active: false }), 'COUPON_INACTIVE'],
      [() => discount({ valid_from: new Date(Date.now() + 86_400_000).toISOString() }), 'COUPON_NOT_STARTED'],
      [() => discount({ valid_to: new Date(Date.now() - 1000).toISOString() }), 'COUPON_EXPIRED'],
      [async () => exhausted, 'COUPON_EXHAUSTED'],
      [() => discount({ min_subtotal: '100' }), 'COUPON_MIN_SUBTOTAL'],
      [async () => discount({ products: [(await product()).id] }), 'COUPON_NOT_APPLICABLE'],
      [() => discount({ max_uses_per_user: 3 }), 'COUPON_NEEDS_ACCOUNT'],
    ];
    for (const [code, expected] of cases) {
      const g = await guest();
      await add(g, p.variants[0].id);
      const res = await checkout(g, { coupon: await code() });
      expect([expected, res.error?.code]).toEqual([expected, expected]);
      expect(await cartLines(g.token)).toHaveLength(1);
    }
    expect(await stockOf(app, p.variants[0].id)).toBe(50);
  });
});

describe('looking a guest order up', () => {
  let order: number;
  beforeAll(async () => {
    const g = await guest();
    await add(g, (await product()).variants[0].id);
    order = (await checkout(g, { email: 'Look.Up@Example.com' })).data!.id;
  });
  const lookup = (body: { order: number; email: string }, address = '198.51.100.1') =>
    createApiClient({ baseUrl: app.baseUrl, headers: { 'X-Forwarded-For': address } }).POST('/api/order/lookup/', { body });

  it('finds it by its number and email (any case); a wrong email and a wrong number are the same 404', async () => {
    expect((await lookup({ order, email: 'look.up@example.COM' }, '198.51.100.10')).data).toMatchObject({ id: order, email: 'Look.Up@Example.com' });
    const wrongEmail = await lookup({ order, email: 'someone@example.com' }, '198.51.100.11');
    const wrongId = await lookup({ order: 999_999, email: 'look.up@example.com' }, '198.51.100.11');
    expect(wrongEmail.response.status).toBe(404);
    expect(wrongId.response.status).toBe(404);
    const shape = (e: unknown) => ({ ...(e as object), request_id: undefined });
    expect(shape(wrongEmail.error)).toEqual(shape(wrongId.error));
    // An account's order is not a guest's.
    const user = await actor(app);
    expect((await lookup({ order: 1, email: user.user.email }, '198.51.100.11')).response.status).toBe(404);
  });

  it('throttles failures per client address (429 LOOKUP_THROTTLED, even for the right answer); another address still finds it', async () => {
    const from = '203.0.113.7';
    for (let i = 0; i < 3; i += 1) expect((await lookup({ order, email: `guess${i}@example.com` }, from)).response.status).toBe(404);
    const throttled = await lookup({ order, email: 'look.up@example.com' }, from);
    expect(throttled.error).toMatchObject({ status: 429, code: 'LOOKUP_THROTTLED' });
    expect(Number(throttled.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await lookup({ order, email: 'look.up@example.com' }, '203.0.113.8')).data).toMatchObject({ id: order });
  });
});

describe('guest throttles (GUEST_CARTS_PER_HOUR, GUEST_ORDERS_PER_HOUR)', () => {
  let tight: TestApp;
  beforeAll(async () => {
    tight = await startApp({ GUEST_CARTS_PER_HOUR: '2', GUEST_ORDERS_PER_HOUR: '1' });
  });
  afterAll(() => tight.close());

  it('answers 429 GUEST_THROTTLED with Retry-After past the allowance, and changes nothing', async () => {
    const tshop = await openShop(tight);
    const p = await makeProduct(tshop.vendor, tshop.category, { price: '3.00', stock: 10 });
    await tshop.admin.api.POST('/api/shipping-zone/', { body: { name: 'France', areas: [{ country: 'FR' }] } }).then(async (z) =>
      tshop.admin.api.POST('/api/shipping-method/', { body: { zone: z.data!.id, name: 'Post', rate_type: 'flat', flat_price: '1.00' } }),
    );
    const tokens = [];
    for (let i = 0; i < 2; i += 1) tokens.push((await tight.api.POST('/api/cart/guest/')).data!.cart_token);
    const third = await tight.api.POST('/api/cart/guest/');
    expect(third.error).toMatchObject({ status: 429, code: 'GUEST_THROTTLED' });
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await sql(tight, 'select id from carts where token_hash is not null')).toHaveLength(2);

    const clients = tokens.map((t) => createApiClient({ baseUrl: tight.baseUrl, headers: { 'X-Cart-Token': t } }));
    for (const c of clients) expect((await c.POST('/api/cart/add/', { body: { variant: p.variants[0].id } })).response.status).toBe(200);
    const body = { email: 'grace@example.com', shipping_address: paris };
    expect((await clients[0]!.POST('/api/order/guest/', { body })).response.status).toBe(201);
    const refused = await clients[1]!.POST('/api/order/guest/', { body });
    expect(refused.error).toMatchObject({ status: 429, code: 'GUEST_THROTTLED' });
    expect(await sql(tight, 'select id from orders')).toHaveLength(1);
    expect(await stockOf(tight, p.variants[0].id)).toBe(9);
  });
});

describe('401 INVALID_CART_TOKEN on every operation that takes a cart token', () => {
  it('answers it for a token that names no cart', async () => {
    const targets = (Object.keys(operationIndex) as OperationId[]).filter((id) => declaredCodes.get(id)?.get(401)?.includes('INVALID_CART_TOKEN'));
    expect(targets.length).toBeGreaterThan(10);
    const answers: string[] = [];
    for (const id of targets) {
      const sample = sampleRequest(id);
      const raw = sample.body === undefined ? undefined : JSON.stringify(sample.body);
      const length: Record<string, string> = raw === undefined ? {} : { 'content-length': String(Buffer.byteLength(raw)) };
      const res = await rawRequest(app.baseUrl, sample.path, { method: sample.method, headers: { ...sample.headers, ...length, 'x-cart-token': 'B'.repeat(43) }, body: raw });
      answers.push(`${id} ${res.status} ${(res.json as { code?: string } | undefined)?.code}`);
    }
    expect(answers).toEqual(targets.map((id) => `${id} 401 INVALID_CART_TOKEN`));
  });
});

describe('claiming guest orders into an account', () => {
  const verificationToken = async (email: string) => {
    const [mail] = await sql<{ text: string }>(
      app,
      `select data->>'text' as text from ${JOB_SCHEMA}.job where name = 'mail.send' and data->>'to' = ? and data->>'subject' = 'Verify your email address' order by created_on desc limit 1`,
      [email],
    );
    const token = mail && /\n\n([A-Za-z0-9_-]{43})(?:\n|$)/.exec(mail.text)?.[1];
    if (!token) throw new Error(`no verification mail to ${email}`);
    return token;
  };

  it('refuses an unverified email (403 EMAIL_NOT_VERIFIED, nothing claimed); verifying claims them, and the claim operation the later ones', async () => {
    const { user, password } = await registerCustomer(app);
    const api = app.as((await login(app, user.username, password)).access);
    const p = await product();
    const g = await guest();
    await add(g, p.variants[0].id);
    const order = (await checkout(g, { email: user.email.toUpperCase() })).data!;

    expect((await api.POST('/api/order/claim/')).error).toMatchObject({ status: 403, code: 'EMAIL_NOT_VERIFIED' });
    expect(await sql(app, 'select user_id from orders where id = ?', [order.id])).toEqual([{ user_id: null }]);

    expect((await app.api.POST('/api/auth/email/verify/', { body: { token: await verificationToken(user.email) } })).response.status).toBe(204);
    expect((await api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data).toMatchObject({ id: order.id, user: user.id, email: user.email.toUpperCase() });
    expect((await g.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).error).toMatchObject({ status: 404 });
    expect((await app.api.POST('/api/order/lookup/', { body: { order: order.id, email: user.email } })).response.status).toBe(404);

    const later = await guest();
    await add(later, p.variants[0].id);
    const second = (await checkout(later, { email: user.email })).data!;
    expect((await api.POST('/api/order/claim/')).data).toEqual({ claimed: 1 });
    expect((await api.POST('/api/order/claim/')).data).toEqual({ claimed: 0 });
    const mine = (await api.GET('/api/order/')).data!.results.map((o) => o.id);
    expect(mine).toEqual(expect.arrayContaining([order.id, second.id]));
  });
});

describe('a guest cart at login', () => {
  it('merges into the account cart (quantities add, capped by the line limit and the stock; the guest coupon when the account has none) and is gone', async () => {
    const [plenty, scarce, only] = [await product('1.00', 200), await product('1.00', 3), await product('1.00', 5)];
    const coupon = (await shop.admin.api.POST('/api/discount/', { body: { code: `MERGE${Date.now()}`, kind: 'fixed', value: '1' } })).data!.code;
    const { user, password } = await registerCustomer(app);
    const api = app.as((await login(app, user.username, password)).access);
    await api.POST('/api/cart/add/', { body: { variant: plenty.variants[0].id, quantity: 95 } });
    await api.POST('/api/cart/add/', { body: { variant: scarce.variants[0].id, quantity: 2 } });
    const g = await guest();
    await add(g, plenty.variants[0].id, 10);
    await add(g, scarce.variants[0].id, 2);
    await add(g, only.variants[0].id, 4);
    await g.api.POST('/api/cart/coupon/', { body: { code: coupon } });

    const res = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password }, params: { header: { 'X-Cart-Token': g.token } } });
    expect(res.response.status).toBe(200);
    const cart = (await app.as(res.data!.access).GET('/api/cart/')).data!;
    expect(cart.items.map((i) => [i.variant.id, i.quantity])).toEqual([
      [plenty.variants[0].id, 100],
      [scarce.variants[0].id, 3],
      [only.variants[0].id, 4],
    ]);
    expect(cart.coupon).toBe(coupon);
    expect((await g.api.GET('/api/cart/')).error).toMatchObject({ status: 401, code: 'INVALID_CART_TOKEN' });
    expect(await sql(app, 'select id from carts where id = ?', [g.cart.id])).toEqual([]);
  });

  it('ignores a token that names no cart: the login still succeeds', async () => {
    const { user, password } = await registerCustomer(app);
    const res = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password }, params: { header: { 'X-Cart-Token': 'C'.repeat(43) } } });
    expect(res.response.status).toBe(200);
  });

  it('merges once when two logins bring the same token at the same time', async () => {
    const p = await product('1.00', 50);
    const { user, password } = await registerCustomer(app);
    const g = await guest();
    await add(g, p.variants[0].id, 4);
    const logins = await Promise.all(
      [1, 2].map(() => app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password }, params: { header: { 'X-Cart-Token': g.token } } })),
    );
    expect(logins.map((r) => r.response.status)).toEqual([200, 200]);
    const cart = (await app.as(logins[0]!.data!.access).GET('/api/cart/')).data!;
    expect(cart.items.map((i) => i.quantity)).toEqual([4]);
  });
});

describe('guests over GraphQL', () => {
  it('creates a guest cart, fills and prices it with X-Cart-Token, places the order and looks it up; refusals by their codes', async () => {
    const created = await gql(app, 'mutation { createGuestCart { cart_token cart { id total } } }');
    const token: string = created.data!.createGuestCart.cart_token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const asGuest = (query: string, variables?: Record<string, unknown>) => gql(app, query, variables, undefined, { 'X-Cart-Token': token });
    const p = await product('10.00', 10);
    expect((await asGuest('mutation($v: Int!) { addToCart(variant: $v, quantity: 2) { subtotal } }', { v: p.variants[0].id })).data).toEqual({ addToCart: { subtotal: '20.00' } });
    expect((await asGuest('{ cart(country: "FR") { subtotal tax total } }')).data).toEqual({ cart: { subtotal: '20.00', tax: '4.00', total: '24.00' } });

    const place = `mutation($input: GuestOrderInput!) { placeGuestOrder(input: $input) { id user email total } }`;
    const input = { email: 'gql-guest@example.com', shipping_address: { ...paris, line2: null }, shipping_method: colissimo };
    const placed = await asGuest(place, { input });
    expect(placed.data!.placeGuestOrder).toMatchObject({ user: null, email: 'gql-guest@example.com', total: '29.88' });
    const id: number = placed.data!.placeGuestOrder.id;
    const found = await gql(app, 'query($id: Int!, $email: String!) { lookupOrder(order: $id, email: $email) { id email } }', { id, email: 'GQL-guest@example.com' });
    expect(found.data).toEqual({ lookupOrder: { id, email: 'gql-guest@example.com' } });

    // The guest reads and pays its order with the same token, as over REST; nobody else can.
    const read = 'query($id: Int!) { order(id: $id) { id status payment_status total } }';
    expect((await asGuest(read, { id })).data).toEqual({ order: { id, status: 'pending_payment', payment_status: 'unpaid', total: '29.88' } });
    const pay = 'mutation($input: PaymentInput!) { initiatePayment(input: $input) { created payment { status amount } } }';
    const other = (await gql(app, 'mutation { createGuestCart { cart_token } }')).data!.createGuestCart.cart_token as string;
    const asOther = (query: string, variables?: Record<string, unknown>) => gql(app, query, variables, undefined, { 'X-Cart-Token': other });
    expect(codes(await asOther(read, { id }))).toEqual(['NOT_FOUND']);
    expect(codes(await asOther(pay, { input: { order: id, method: 'card', card_token: 'tok_success' } }))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(app, read, { id }))).toEqual(['NOT_AUTHENTICATED']);
    expect(codes(await gql(app, read, { id }, undefined, { 'X-Cart-Token': 'D'.repeat(43) }))).toEqual(['INVALID_CART_TOKEN']);
    expect((await asGuest(pay, { input: { order: id, method: 'card', card_token: 'tok_success' } })).data).toEqual({
      initiatePayment: { created: true, payment: { status: 'succeeded', amount: '29.88' } },
    });
    expect((await asGuest(read, { id })).data!.order).toMatchObject({ status: 'paid', payment_status: 'paid' });

    expect(codes(await gql(app, '{ cart { total } }'))).toEqual(['NOT_AUTHENTICATED']);
    expect(codes(await gql(app, '{ cart { total } }', undefined, undefined, { 'X-Cart-Token': 'D'.repeat(43) }))).toEqual(['INVALID_CART_TOKEN']);
    expect(codes(await gql(app, place, { input }))).toEqual(['NOT_AUTHENTICATED']);
    expect(codes(await asGuest(place, { input: { ...input, email: 'not an email' } }))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await asGuest(place, { input }))).toEqual(['CART_EMPTY']);
  });
});
