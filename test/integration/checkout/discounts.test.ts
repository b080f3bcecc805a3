import type { components } from '../../../generated/openapi';
import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, placeOrder, product, type Shop } from '../../support/checkout';
import { actor, sql, uniqueName } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());

async function discount(body: Partial<components['schemas']['DiscountCreate']> = {}) {
  const { data, error } = await shop.admin.api.POST('/api/discount/', { body: { code: uniqueName('CODE'), kind: 'percentage', value: '10', ...body } });
  if (!data) throw new Error(JSON.stringify(error));
  return data;
}

describe('discount administration', () => {
  it('creates, reads, updates and lists discounts (admins only)', async () => {
    const p = await product(app, shop);
    const { data, response } = await shop.admin.api.POST('/api/discount/', {
      body: { code: 'Spring25', kind: 'fixed', value: '5', description: 'Spring', min_subtotal: '20', max_uses: 100, max_uses_per_user: 1, products: [p.id] },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ code: 'Spring25', kind: 'fixed', value: '5.00', min_subtotal: '20.00', max_uses: 100, max_uses_per_user: 1, times_used: 0, products: [p.id], is_active: true });
    const dup = await shop.admin.api.POST('/api/discount/', { body: { code: 'SPRING25', kind: 'fixed', value: '1' } });
    expect(dup.response.status).toBe(409);
    expect(dup.error!.code).toBe('CODE_TAKEN');
    const updated = await shop.admin.api.PATCH('/api/discount/{id}/', { params: { path: { id: data!.id } }, body: { is_active: false, products: [] } });
    expect(updated.data).toMatchObject({ is_active: false, products: [] });
    expect((await shop.admin.api.GET('/api/discount/{id}/', { params: { path: { id: data!.id } } })).data!.is_active).toBe(false);
    expect((await shop.admin.api.GET('/api/discount/', { params: { query: { is_active: false } } })).data!.results.map((d) => d.id)).toContain(data!.id);
    const customer = await actor(app);
    expect((await customer.api.GET('/api/discount/')).response.status).toBe(403);
    expect((await shop.vendor.api.POST('/api/discount/', { body: { code: 'VENDOR1', kind: 'fixed', value: '1' } })).response.status).toBe(403);
  });

  it.each([
    ['a percentage above 100', { kind: 'percentage', value: '150' }, 400],
    ['a zero value', { kind: 'fixed', value: '0' }, 400],
    ['a float value', { kind: 'fixed', value: 5 }, 400],
    ['a window that ends before it starts', { kind: 'fixed', value: '1', valid_from: '2026-12-01T00:00:00Z', valid_to: '2026-11-01T00:00:00Z' }, 400],
    ['an unknown product', { kind: 'fixed', value: '1', products: [99999999] }, 422],
    ['a bad kind', { kind: 'bogus', value: '1' }, 400],
    ['a code with spaces', { kind: 'fixed', value: '1', code: 'TWO WORDS' }, 400],
  ])('refuses %s', async (_c, body, status) => {
    const res = await fetch(`${app.baseUrl}/api/discount/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.admin.tokens.access}` },
      body: JSON.stringify({ code: uniqueName('BAD'), ...body }),
    });
    expect(res.status).toBe(status);
  });

  it('deletes an unused discount; a used one is deactivated', async () => {
    const unused = await discount();
    expect((await shop.admin.api.DELETE('/api/discount/{id}/', { params: { path: { id: unused.id } } })).response.status).toBe(204);
    expect((await shop.admin.api.GET('/api/discount/{id}/', { params: { path: { id: unused.id } } })).response.status).toBe(404);
    const used = await discount();
    const p = await product(app, shop, '10.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    await placeOrder(b, { coupon: used.code });
    expect((await shop.admin.api.DELETE('/api/discount/{id}/', { params: { path: { id: used.id } } })).response.status).toBe(204);
    expect((await shop.admin.api.GET('/api/discount/{id}/', { params: { path: { id: used.id } } })).data!.is_active).toBe(false);
  });
});

describe('applying codes', () => {
  it('shows a percentage discount in the cart and charges it at checkout, exactly', async () => {
    const d = await discount({ kind: 'percentage', value: '12.5' });
    const p = await product(app, shop, '19.99', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 3 }]);
    const cart = await b.api.POST('/api/cart/coupon/', { body: { code: d.code.toLowerCase() } });
    // 3 × 19.99 = 59.97; 12.5% = 7.49625 → 7.50
    expect(cart.data).toMatchObject({ coupon: d.code, subtotal: '59.97', discount: '7.50', total: '52.47', coupon_problem: null });
    const order = await placeOrder(b);
    expect(order).toMatchObject({ coupon: d.code, subtotal: '59.97', discount: '7.50', total: '52.47' });
    expect((await b.api.GET('/api/cart/')).data).toMatchObject({ coupon: null, discount: '0.00' });
    const { times_used } = firstOf(await sql<{ times_used: number }>(app, 'select times_used from discounts where id = ?', [d.id]));
    expect(times_used).toBe(1);
  });

  it('never takes a fixed discount below zero, and limits discounts to their products', async () => {
    const cheap = await product(app, shop, '3.00', 10);
    const other = await product(app, shop, '7.00', 10);
    const big = await discount({ kind: 'fixed', value: '50' });
    const b = await buyer(app, [{ variant: cheap.variants[0].id }]);
    expect((await b.api.POST('/api/cart/coupon/', { body: { code: big.code } })).data).toMatchObject({ discount: '3.00', total: '0.00' });
    const limited = await discount({ kind: 'percentage', value: '50', products: [other.id] });
    await b.api.POST('/api/cart/add/', { body: { variant: other.variants[0].id } });
    expect((await b.api.POST('/api/cart/coupon/', { body: { code: limited.code } })).data).toMatchObject({ subtotal: '10.00', discount: '3.50', total: '6.50' });
    const order = await placeOrder(b);
    expect(order).toMatchObject({ subtotal: '10.00', discount: '3.50', total: '6.50' });
  });

  const refusedCodes: [string, () => Promise<string>, string][] = [
    ['unknown', async () => 'NO-SUCH-CODE', 'UNKNOWN_COUPON'],
    ['inactive', async () => (await discount({ is_active: false })).code, 'COUPON_INACTIVE'],
    ['not started', async () => (await discount({ valid_from: new Date(Date.now() + 86_400_000).toISOString() })).code, 'COUPON_NOT_STARTED'],
    ['expired', async () => (await discount({ valid_to: new Date(Date.now() - 1000).toISOString() })).code, 'COUPON_EXPIRED'],
    ['below its minimum', async () => (await discount({ min_subtotal: '100' })).code, 'COUPON_MIN_SUBTOTAL'],
    ['for other products', async () => (await discount({ products: [(await product(app, shop)).id] })).code, 'COUPON_NOT_APPLICABLE'],
  ];

  it('refuses an update to a taken code (409 CODE_TAKEN) or to unknown products (422 UNKNOWN_PRODUCT), and changes nothing', async () => {
    const d = await discount();
    const other = await discount();
    const patch = (body: { code?: string; products?: number[] }) => shop.admin.api.PATCH('/api/discount/{id}/', { params: { path: { id: d.id } }, body });
    expect((await patch({ code: other.code.toLowerCase() })).error).toMatchObject({ status: 409, code: 'CODE_TAKEN' });
    expect((await patch({ products: [99999999] })).error).toMatchObject({ status: 422, code: 'UNKNOWN_PRODUCT' });
    expect((await shop.admin.api.GET('/api/discount/{id}/', { params: { path: { id: d.id } } })).data).toMatchObject({ code: d.code, products: [] });
  });

  it.each(refusedCodes)('refuses a code that is %s with 422 and keeps the cart as it was', async (_c, make, code) => {
    const p = await product(app, shop, '10.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const res = await b.api.POST('/api/cart/coupon/', { body: { code: await make() } });
    expect(res.response.status).toBe(422);
    expect(res.error!.code).toBe(code);
    expect((await b.api.GET('/api/cart/')).data).toMatchObject({ coupon: null, discount: '0.00', total: '10.00' });
  });

  it.each(refusedCodes)('at checkout, refuses a code that is %s with 422, places no order and keeps the cart', async (_c, make, code) => {
    const p = await product(app, shop, '10.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const res = await b.api.POST('/api/order/', { body: { shipping_address: b.address, coupon: await make() } });
    expect(res.response.status).toBe(422);
    expect(res.error!.code).toBe(code);
    expect((await b.api.GET('/api/order/')).data!.results).toEqual([]);
    expect((await b.api.GET('/api/cart/')).data).toMatchObject({ coupon: null, total: '10.00' });
  });

  it('enforces total and per-user limits at checkout', async () => {
    const once = await discount({ kind: 'fixed', value: '1', max_uses_per_user: 1 });
    const p = await product(app, shop, '10.00', 50);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    await placeOrder(b, { coupon: once.code });
    await b.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id } });
    const again = await b.api.POST('/api/order/', { body: { shipping_address: b.address, coupon: once.code } });
    expect(again.response.status).toBe(422);
    expect(again.error!.code).toBe('COUPON_USER_LIMIT');
    // Applying the used code to the cart is refused the same way.
    expect((await b.api.POST('/api/cart/coupon/', { body: { code: once.code } })).error).toMatchObject({ status: 422, code: 'COUPON_USER_LIMIT' });
    const two = await discount({ kind: 'fixed', value: '1', max_uses: 1 });
    const c = await buyer(app, [{ variant: p.variants[0].id }]);
    await placeOrder(c, { coupon: two.code });
    const d = await buyer(app, [{ variant: p.variants[0].id }]);
    const exhausted = await d.api.POST('/api/order/', { body: { shipping_address: d.address, coupon: two.code } });
    expect(exhausted.error!.code).toBe('COUPON_EXHAUSTED');
    expect((await d.api.POST('/api/cart/coupon/', { body: { code: two.code } })).error).toMatchObject({ status: 422, code: 'COUPON_EXHAUSTED' });
  });

  it('shows why an applied code stopped working, and removes it', async () => {
    const d = await discount({ kind: 'fixed', value: '2' });
    const p = await product(app, shop, '10.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    await b.api.POST('/api/cart/coupon/', { body: { code: d.code } });
    await shop.admin.api.PATCH('/api/discount/{id}/', { params: { path: { id: d.id } }, body: { is_active: false } });
    expect((await b.api.GET('/api/cart/')).data).toMatchObject({ coupon: d.code, discount: '0.00', coupon_problem: 'COUPON_INACTIVE' });
    const refused = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(refused.error!.code).toBe('COUPON_INACTIVE');
    expect((await b.api.DELETE('/api/cart/coupon/')).data).toMatchObject({ coupon: null, coupon_problem: null });
    expect((await b.api.POST('/api/order/', { body: { shipping_address: b.address } })).response.status).toBe(201);
  });

  it('gives a coupon use back when the order is cancelled', async () => {
    const d = await discount({ kind: 'fixed', value: '1', max_uses: 1 });
    const p = await product(app, shop, '10.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b, { coupon: d.code });
    await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    const c = await buyer(app, [{ variant: p.variants[0].id }]);
    expect((await c.api.POST('/api/order/', { body: { shipping_address: c.address, coupon: d.code } })).response.status).toBe(201);
  });

  it('redeems a single-use code exactly once when many checkouts race for it', async () => {
    const d = await discount({ kind: 'percentage', value: '50', max_uses: 1 });
    const p = await product(app, shop, '10.00', 100);
    const buyers = await Promise.all(Array.from({ length: 8 }, () => buyer(app, [{ variant: p.variants[0].id }])));
    const results = await Promise.all(buyers.map((b) => b.api.POST('/api/order/', { body: { shipping_address: b.address, coupon: d.code } })));
    expect(results.filter((r) => r.response.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.response.status !== 201)) expect(r.error!.code).toBe('COUPON_EXHAUSTED');
    const { times_used } = firstOf(await sql<{ times_used: number }>(app, 'select times_used from discounts where id = ?', [d.id]));
    expect(times_used).toBe(1);
    expect(await sql(app, 'select id from discount_redemptions where discount_id = ?', [d.id])).toHaveLength(1);
  });
});
