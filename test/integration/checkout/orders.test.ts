import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { session } from '../../support/database-probes';
import { actor, sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp({ PAYMENT_WINDOW_MINUTES: '15' });
  shop = await openShop(app);
});
afterAll(() => app.close());

const ledger = (variant: number) =>
  sql<{ delta: number; reason: string; order_id: number | null; stock_after: number }>(
    app,
    'select delta, reason, order_id, stock_after from inventory_movements where variant_id = ? order by id',
    [variant],
  );

describe('placing an order', () => {
  it('turns the cart into an order: prices and address snapshotted, stock reserved, ledger written, cart emptied', async () => {
    const p1 = await product(app, shop, '19.99', 5);
    const p2 = await product(app, shop, '0.35', 100);
    const b = await buyer(app, [{ variant: p1.variants[0].id, quantity: 2 }, { variant: p2.variants[0].id, quantity: 3 }]);
    const before = Date.now();
    const { data: order, response } = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`${app.baseUrl}/api/order/${order!.id}/`);
    expect(order).toMatchObject({
      user: b.user.id, status: 'pending_payment', payment_status: 'unpaid', subtotal: '41.03', discount: '0.00', total: '41.03',
      currency: 'USD', coupon: null, shipment: null, paid_at: null,
      shipping_address: { recipient_name: 'Buyer', line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US', line2: '', region: '', phone: null },
    });
    expect(order!.items.map((i) => [i.variant, i.quantity, i.unit_price, i.line_total, i.sku])).toEqual([
      [p1.variants[0].id, 2, '19.99', '39.98', p1.sku],
      [p2.variants[0].id, 3, '0.35', '1.05', p2.sku],
    ]);
    const expires = Date.parse(order!.expires_at!);
    expect(expires - before).toBeGreaterThan(14 * 60_000);
    expect(expires - before).toBeLessThan(16 * 60_000);
    expect(await stockOf(app, p1.variants[0].id)).toBe(3);
    expect(await ledger(p1.variants[0].id)).toEqual([
      { delta: 5, reason: 'initial', order_id: null, stock_after: 5 },
      { delta: -2, reason: 'sale', order_id: order!.id, stock_after: 3 },
    ]);
    expect((await b.api.GET('/api/cart/')).data!.items).toEqual([]);
    // Prices move on; the order keeps what was paid. The address may change or go; the order keeps its copy.
    await shop.vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p1.variants[0].id } }, body: { price: '25.00' } });
    await b.api.PATCH('/api/address/{id}/', { params: { path: { id: b.address } }, body: { city: 'Shelbyville' } });
    await b.api.DELETE('/api/address/{id}/', { params: { path: { id: b.address } } });
    const again = await b.api.GET('/api/order/{id}/', { params: { path: { id: order!.id } } });
    expect(again.data).toMatchObject({ total: '41.03', shipping_address: { city: 'Springfield' } });
    expect(firstOf(again.data!.items).unit_price).toBe('19.99');
  });

  it('refuses an empty cart (409 CART_EMPTY) and an address of someone else (422)', async () => {
    const b = await buyer(app);
    const empty = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(empty.response.status).toBe(409);
    expect(empty.error!.code).toBe('CART_EMPTY');
    const p = await product(app, shop);
    const other = await buyer(app, [{ variant: p.variants[0].id }]);
    const res = await other.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(res.response.status).toBe(422);
    expect(res.error!.code).toBe('UNKNOWN_ADDRESS');
    expect((await other.api.GET('/api/cart/')).data!.items).toHaveLength(1);
  });

  it('refuses a cart with withdrawn items (409 CART_HAS_UNAVAILABLE_ITEMS)', async () => {
    const p = await product(app, shop);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    await shop.vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    const res = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(res.response.status).toBe(409);
    expect(res.error!.code).toBe('CART_HAS_UNAVAILABLE_ITEMS');
  });

  it('refuses more than the stock left with 409 INSUFFICIENT_STOCK and changes nothing', async () => {
    const p = await product(app, shop, '5.00', 3);
    const first = await buyer(app, [{ variant: p.variants[0].id, quantity: 3 }]);
    const second = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
    await placeOrder(first);
    const orders = await sql(app, 'select id from orders order by id');
    const res = await second.api.POST('/api/order/', { body: { shipping_address: second.address } });
    expect(res.response.status).toBe(409);
    expect(res.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 0, variant: p.variants[0].id });
    expect(await sql(app, 'select id from orders order by id')).toEqual(orders);
    expect(await stockOf(app, p.variants[0].id)).toBe(0);
    expect(firstOf((await second.api.GET('/api/cart/')).data!.items).quantity).toBe(2);
  });

  it('turns a double submit of one cart into one order (the second finds the cart empty)', async () => {
    const p = await product(app, shop, '5.00', 50);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
    const results = await Promise.all([1, 2, 3].map(() => b.api.POST('/api/order/', { body: { shipping_address: b.address } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 409, 409]);
    expect(results.filter((r) => r.error).every((r) => r.error!.code === 'CART_EMPTY')).toBe(true);
    expect(await stockOf(app, p.variants[0].id)).toBe(48);
  });

  it.each([
    ['a missing address', {}, 'body.shipping_address'],
    ['a string address', { shipping_address: 'home' }, 'body.shipping_address'],
    ['a client-side total', { shipping_address: 1, total: '0.01' }, 'body.total'],
  ])('answers 400 for %s', async (_c, body, field) => {
    const b = await buyer(app);
    const res = await fetch(`${app.baseUrl}/api/order/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
  });
});

describe('Idempotency-Key', () => {
  it('answers the same order to a retry with the same key and body', async () => {
    const p = await product(app, shop, '5.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const send = (body: object, key: string) =>
      fetch(`${app.baseUrl}/api/order/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${b.tokens.access}`, 'idempotency-key': key },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id?: number; code?: string } }));
    const first = await send({ shipping_address: b.address }, 'order-attempt-1');
    const retry = await send({ shipping_address: b.address }, 'order-attempt-1');
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(await stockOf(app, p.variants[0].id)).toBe(9);
    const other = await send({ shipping_address: b.address, coupon: 'NOPE' }, 'order-attempt-1');
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('lets one of several concurrent requests with one key run; the others get 409 or the same order', async () => {
    const p = await product(app, shop, '5.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        b.api.POST('/api/order/', { body: { shipping_address: b.address }, params: { header: { 'Idempotency-Key': 'same-key' } } }),
      ),
    );
    const created = results.filter((r) => r.response.status === 201);
    expect(new Set(created.map((r) => r.data!.id)).size).toBe(1);
    for (const r of results.filter((r) => r.response.status !== 201)) expect(r.error!.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(await sql(app, 'select id from orders where user_id = ?', [b.user.id])).toHaveLength(1);
  });

  it('answers 409 IDEMPOTENCY_CONFLICT while a request with the same key is still being processed, and places nothing', async () => {
    const p = await product(app, shop, '5.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    // A request with this key in progress holds its transaction-scoped advisory lock
    // (src/modules/checkout/idempotency.ts); another session holds the same lock here.
    const holder = await session(app.databaseUrl);
    try {
      await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [`idempotency:${b.user.id}:order:busy-key`]);
      const res = await b.api.POST('/api/order/', { body: { shipping_address: b.address }, params: { header: { 'Idempotency-Key': 'busy-key' } } });
      expect(res.error).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' });
    } finally {
      await holder.end();
    }
    expect(await sql(app, 'select id from orders where user_id = ?', [b.user.id])).toHaveLength(0);
    expect(await stockOf(app, p.variants[0].id)).toBe(10);
  });

  it('refuses a malformed key', async () => {
    const b = await buyer(app);
    const res = await b.api.POST('/api/order/', { body: { shipping_address: b.address }, params: { header: { 'Idempotency-Key': 'has spaces' } } });
    expect(res.response.status).toBe(400);
  });
});

describe('reading orders', () => {
  it('lists my orders newest first; admins see all and filter; others cannot see mine', async () => {
    const p = await product(app, shop, '1.00', 100);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
    const o1 = await placeOrder(b);
    await b.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id } });
    const o2 = await placeOrder(b);
    const mine = await b.api.GET('/api/order/');
    expect(mine.data!.results.map((o) => [o.id, o.item_count, o.total])).toEqual([
      [o2.id, 1, '1.00'],
      [o1.id, 2, '2.00'],
    ]);
    const stranger = await actor(app);
    expect((await stranger.api.GET('/api/order/{id}/', { params: { path: { id: o1.id } } })).response.status).toBe(404);
    expect((await stranger.api.GET('/api/order/')).data!.results).toEqual([]);
    expect((await stranger.api.GET('/api/order/', { params: { query: { user: b.user.id } } })).response.status).toBe(403);
    const all = await shop.admin.api.GET('/api/order/', { params: { query: { user: b.user.id, status: 'pending_payment' } } });
    expect(all.data!.results.map((o) => o.id)).toEqual([o2.id, o1.id]);
    expect((await shop.admin.api.GET('/api/order/{id}/', { params: { path: { id: o1.id } } })).data!.id).toBe(o1.id);
    expect((await app.api.GET('/api/order/')).response.status).toBe(401);
  });
});

describe('cancelling', () => {
  it('cancels an unpaid order and returns its stock; a second cancel is an invalid transition', async () => {
    const p = await product(app, shop, '2.00', 4);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 3 }]);
    const order = await placeOrder(b);
    expect(await stockOf(app, p.variants[0].id)).toBe(1);
    const { data, response } = await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ status: 'cancelled', expires_at: null });
    expect(data!.cancelled_at).not.toBeNull();
    expect(await stockOf(app, p.variants[0].id)).toBe(4);
    expect((await ledger(p.variants[0].id)).map((m) => [m.reason, m.delta])).toEqual([['initial', 4], ['sale', -3], ['cancellation', 3]]);
    const again = await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    expect(again.response.status).toBe(409);
    expect(again.error).toMatchObject({ code: 'INVALID_TRANSITION', from: 'cancelled', to: 'cancelled' });
    const stranger = await actor(app);
    expect((await stranger.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } })).response.status).toBe(404);
  });

  it('cancels orders left unpaid past their deadline and returns the stock', async () => {
    const p = await product(app, shop, '2.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
    const order = await placeOrder(b);
    expect(await app.services.orders.expireUnpaid(app.orm.em.fork(), new Date(Date.now() + 10 * 60_000))).toBe(0);
    expect(await app.services.orders.expireUnpaid(app.orm.em.fork(), new Date(Date.now() + 16 * 60_000))).toBeGreaterThanOrEqual(1);
    expect((await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!.status).toBe('cancelled');
    expect(await stockOf(app, p.variants[0].id)).toBe(5);
    // Running it again changes nothing.
    await app.services.orders.expireUnpaid(app.orm.em.fork(), new Date(Date.now() + 16 * 60_000));
    expect(await stockOf(app, p.variants[0].id)).toBe(5);
  });
});

describe('history', () => {
  it('keeps ordered products: deleting one deactivates it', async () => {
    const p = await product(app, shop, '2.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    await placeOrder(b);
    expect((await shop.vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
    const row = firstOf(await sql<{ is_active: boolean }>(app, 'select is_active from products where id = ?', [p.id]));
    expect(row.is_active).toBe(false);
  });

  it('reconciles: every variant’s stock equals the sum of its ledger', async () => {
    const rows = await sql<{ id: number; stock: number; moved: number }>(
      app,
      'select v.id, v.stock, coalesce(sum(m.delta), 0)::int as moved from product_variants v left join inventory_movements m on m.variant_id = v.id group by v.id',
    );
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) expect(r.moved).toBe(r.stock);
  });
});
