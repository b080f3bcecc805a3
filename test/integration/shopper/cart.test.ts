import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { firstOf, itemAt } from '../../support/narrow';

let app: TestApp;
let vendor: Actor;
let shopper: Actor;
let category: number;
beforeAll(async () => {
  app = await startApp();
  const admin = await actor(app, 'admin');
  [vendor, shopper] = await Promise.all([actor(app, 'vendor'), actor(app)]);
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

/** A fresh single-variant product; returns its variant id. */
async function variant(price = '10.00', stock = 10): Promise<number> {
  return (await makeProduct(vendor, category, { price, stock })).variants[0].id;
}

describe('cart', () => {
  it('is created on first use, empty', async () => {
    const u = await actor(app);
    const { data, response } = await u.api.GET('/api/cart/');
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ items: [], item_count: 0, subtotal: '0.00', discount: '0.00', total: '0.00', currency: 'USD', coupon: null });
    expect((await u.api.GET('/api/cart/')).data!.id).toBe(data!.id);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('adds variants, sums repeated adds, and totals exactly in minor units', async () => {
    const u = await actor(app);
    const v1 = await variant('19.99', 10);
    const v2 = await variant('0.10', 50);
    await u.api.POST('/api/cart/add/', { body: { variant: v1, quantity: 2 } });
    await u.api.POST('/api/cart/add/', { body: { variant: v1 } });
    const { data } = await u.api.POST('/api/cart/add/', { body: { variant: v2, quantity: 3 } });
    expect(data!.items.map((i) => [i.variant.id, i.quantity, i.unit_price, i.line_total])).toEqual([
      [v1, 3, '19.99', '59.97'],
      [v2, 3, '0.10', '0.30'],
    ]);
    expect(data).toMatchObject({ item_count: 6, subtotal: '60.27', total: '60.27' });
    expect(data!.items[0]).toMatchObject({ price_changed: false, problem: null, available: 10, product: { image: null } });
  });

  it('shows a changed price before checkout, and flags lines that can no longer be bought', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category, { price: '5.00', stock: 5 });
    const other = await variant('2.00', 1);
    await u.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id, quantity: 2 } });
    await u.api.POST('/api/cart/add/', { body: { variant: other } });
    await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { price: '6.50', stock: 1 } });
    let cart = (await u.api.GET('/api/cart/')).data!;
    expect(cart.items[0]).toMatchObject({ unit_price: '6.50', added_unit_price: '5.00', price_changed: true, line_total: '13.00', problem: 'insufficient_stock', available: 1 });
    expect(cart.subtotal).toBe('15.00');
    await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    cart = (await u.api.GET('/api/cart/')).data!;
    expect(cart.items[0]).toMatchObject({ problem: 'unavailable', available: 0, line_total: '0.00' });
    expect(cart).toMatchObject({ subtotal: '2.00', item_count: 1 });
  });

  it('refuses more than the stock with 409 INSUFFICIENT_STOCK and the available quantity, changing nothing', async () => {
    const u = await actor(app);
    const v = await variant('1.00', 3);
    await u.api.POST('/api/cart/add/', { body: { variant: v, quantity: 2 } });
    const { error, response } = await u.api.POST('/api/cart/add/', { body: { variant: v, quantity: 2 } });
    expect(response.status).toBe(409);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 3, variant: v });
    expect(firstOf((await u.api.GET('/api/cart/')).data!.items).quantity).toBe(2);
  });

  it('refuses a new quantity for a line whose variant stopped being sold (422 VARIANT_UNAVAILABLE), changing nothing', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category, { stock: 50 });
    const line = firstOf((await u.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id, quantity: 2 } })).data!.items);
    await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { is_active: false } });
    const res = await u.api.PATCH('/api/cart/update/{item_id}/', { params: { path: { item_id: line.id } }, body: { quantity: 3 } });
    expect(res.error).toMatchObject({ status: 422, code: 'VARIANT_UNAVAILABLE' });
    expect((await u.api.GET('/api/cart/')).data!.items.map((i) => i.quantity)).toEqual([2]);
  });

  it('refuses missing, inactive and over-limit variants with 422, changing nothing', async () => {
    const u = await actor(app);
    const missing = await u.api.POST('/api/cart/add/', { body: { variant: 99999999 } });
    expect(missing.response.status).toBe(422);
    expect(missing.error!.code).toBe('UNKNOWN_VARIANT');
    const p = await makeProduct(vendor, category, { stock: 500 });
    await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { is_active: false } });
    const inactive = await u.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id } });
    expect(inactive.error!.code).toBe('VARIANT_UNAVAILABLE');
    const big = await variant('1.00', 1000);
    await u.api.POST('/api/cart/add/', { body: { variant: big, quantity: 100 } });
    const over = await u.api.POST('/api/cart/add/', { body: { variant: big, quantity: 1 } });
    expect(over.response.status).toBe(422);
    expect(over.error!.code).toBe('QUANTITY_LIMIT');
    expect((await u.api.GET('/api/cart/')).data!.items.map((i) => i.quantity)).toEqual([100]);
  });

  it.each([
    ['a zero quantity', { variant: 1, quantity: 0 }, 'body.quantity'],
    ['a quantity above 100', { variant: 1, quantity: 101 }, 'body.quantity'],
    ['a fractional quantity', { variant: 1, quantity: 1.5 }, 'body.quantity'],
    ['a string variant', { variant: '1' }, 'body.variant'],
    ['a missing variant', { quantity: 1 }, 'body.variant'],
    ['an unknown field', { variant: 1, price: '0.01' }, 'body.price'],
  ])('answers 400 for %s', async (_c, body, field) => {
    const res = await fetch(`${app.baseUrl}/api/cart/add/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shopper.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
  });

  it('updates quantities (0 removes) and removes lines', async () => {
    const u = await actor(app);
    const v1 = await variant('3.00', 5);
    const v2 = await variant('4.00', 5);
    await u.api.POST('/api/cart/add/', { body: { variant: v1 } });
    const { data } = await u.api.POST('/api/cart/add/', { body: { variant: v2 } });
    const l1 = itemAt(data!.items, 0);
    const l2 = itemAt(data!.items, 1);
    const updated = await u.api.PATCH('/api/cart/update/{item_id}/', { params: { path: { item_id: l1.id } }, body: { quantity: 5 } });
    expect(firstOf(updated.data!.items).quantity).toBe(5);
    const tooMany = await u.api.PATCH('/api/cart/update/{item_id}/', { params: { path: { item_id: l1.id } }, body: { quantity: 6 } });
    expect(tooMany.response.status).toBe(409);
    expect(tooMany.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 5 });
    const zero = await u.api.PATCH('/api/cart/update/{item_id}/', { params: { path: { item_id: l1.id } }, body: { quantity: 0 } });
    expect(zero.data!.items.map((i) => i.id)).toEqual([l2.id]);
    const removed = await u.api.DELETE('/api/cart/remove/{item_id}/', { params: { path: { item_id: l2.id } } });
    expect(removed.response.status).toBe(200);
    expect(removed.data!.items).toEqual([]);
    expect((await u.api.DELETE('/api/cart/remove/{item_id}/', { params: { path: { item_id: l2.id } } })).response.status).toBe(404);
  });

  it("cannot touch another user's cart lines (404), and their lines stay as they were", async () => {
    const owner = await actor(app);
    const v = await variant('1.00', 5);
    const line = firstOf((await owner.api.POST('/api/cart/add/', { body: { variant: v, quantity: 2 } })).data!.items);
    const path = { params: { path: { item_id: line.id } } };
    expect((await shopper.api.PATCH('/api/cart/update/{item_id}/', { ...path, body: { quantity: 1 } })).response.status).toBe(404);
    expect((await shopper.api.DELETE('/api/cart/remove/{item_id}/', path)).response.status).toBe(404);
    expect(firstOf((await owner.api.GET('/api/cart/')).data!.items).quantity).toBe(2);
    expect((await app.api.GET('/api/cart/')).response.status).toBe(401);
  });

  it('sums concurrent adds of one variant without losing an update', async () => {
    const u = await actor(app);
    const v = await variant('1.00', 100);
    const results = await Promise.all(Array.from({ length: 8 }, () => u.api.POST('/api/cart/add/', { body: { variant: v, quantity: 3 } })));
    expect(results.map((r) => [r.response.status, r.error])).toEqual(Array(8).fill([200, undefined]));
    const row = firstOf(
      await sql<{ quantity: number }>(
        app,
        'select ci.quantity from cart_items ci join carts c on c.id = ci.cart_id where c.user_id = ? and ci.variant_id = ?',
        [u.user.id, v],
      ),
    );
    expect(row.quantity).toBe(24);
    expect((await sql(app, 'select id from carts where user_id = ?', [u.user.id])).length).toBe(1);
  });

  it('never lets concurrent adds exceed the stock', async () => {
    const u = await actor(app);
    const v = await variant('1.00', 10);
    const results = await Promise.all(Array.from({ length: 6 }, () => u.api.POST('/api/cart/add/', { body: { variant: v, quantity: 3 } })));
    expect(results.filter((r) => r.response.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.response.status === 409)).toHaveLength(3);
    expect(firstOf((await u.api.GET('/api/cart/')).data!.items).quantity).toBe(9);
  });

  it('drops lines whose variant is deleted', async () => {
    const u = await actor(app);
    const base = uniqueName('CV').toUpperCase();
    const p = await makeProduct(vendor, category, { variants: [{ sku: `${base}-1`, price: '1.00', stock: 5 }, { sku: `${base}-2`, price: '2.00', stock: 5 }] });
    await u.api.POST('/api/cart/add/', { body: { variant: itemAt(p.variants, 1).id } });
    await vendor.api.DELETE('/api/variant/{id}/', { params: { path: { id: itemAt(p.variants, 1).id } } });
    expect((await u.api.GET('/api/cart/')).data!.items).toEqual([]);
  });
});
