import { startApp, type TestApp } from '../../support/app';
import { makeProduct, type MadeProduct } from '../../support/catalog';
import { buyer, openShop, type Shop, stockOf } from '../../support/checkout';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { gql } from '../../support/graphql';

/**
 * Issue 12, money overflow: a cart the API accepts can always be ordered. Unit prices are at most
 * 999999.99 and a cart at most 100 lines of 100 units, so a full cart totals 9999999900.00, within
 * what an order holds (numeric(12,2): 9999999999.99). Prices stored before the bound can still add
 * up past it: that cart is refused with 422 CART_TOTAL_LIMIT at add, update and checkout, and
 * nothing is written.
 */
let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());

const MAX_PRICE = '999999.99';

/** A price set the way the contract allowed before unit prices were bounded (through the service, as an old row would be). */
async function legacyPrice(variantId: number, price: string): Promise<void> {
  const vendor = { id: shop.vendor.user.id, username: shop.vendor.user.username, role: 'vendor' as const };
  await app.services.products.updateVariant(app.orm.em.fork(), vendor, variantId, { price });
}

async function cartRows(a: Actor) {
  return sql<{ variant_id: number; quantity: number }>(app, 'select ci.variant_id, ci.quantity from cart_items ci join carts c on c.id = ci.cart_id where c.user_id = ? order by ci.variant_id', [a.user.id]);
}

async function post(a: Actor, path: string, body: unknown, method = 'POST') {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${a.tokens.access}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; max_total?: string; errors?: { field: string }[] } };
}

describe('unit prices are bounded in the contract', () => {
  it.each([
    ['a product', (_p: MadeProduct) => ['/api/product/', { name: 'X', category: shop.category, sku: uniqueName('SKU').toUpperCase(), price: '1000000.00' }, 'POST', 'body.price'] as const],
    ['a product update', (p: MadeProduct) => [`/api/product/${p.id}/`, { price: '1000000' }, 'PATCH', 'body.price'] as const],
    ['a variant', (p: MadeProduct) => ['/api/variant/', { product: p.id, sku: uniqueName('SKU').toUpperCase(), price: '9999999999.99' }, 'POST', 'body.price'] as const],
    ['a variant update', (p: MadeProduct) => [`/api/variant/${p.variants[0].id}/`, { price: '1000000.00' }, 'PATCH', 'body.price'] as const],
    ['variants given with a product', () => ['/api/product/', { name: 'X', category: shop.category, sku: uniqueName('SKU').toUpperCase(), variants: [{ sku: uniqueName('V').toUpperCase(), price: '1000000.00' }] }, 'POST', 'body.variants[0].price'] as const],
  ])('refuses a price above 999999.99 on %s, naming the field', async (_name, make) => {
    const p = await makeProduct(shop.vendor, shop.category, { price: '5.00' });
    const [path, body, method, field] = make(p);
    const before = await sql(app, 'select count(*)::int as n, sum(price)::text as total from product_variants');
    const res = await post(shop.vendor, path, body, method);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors!.map((e) => e.field)).toContain(field);
    expect(await sql(app, 'select count(*)::int as n, sum(price)::text as total from product_variants')).toEqual(before);
  });

  it('accepts 999999.99', async () => {
    const p = await makeProduct(shop.vendor, shop.category, { price: MAX_PRICE });
    expect(p.price).toBe(MAX_PRICE);
  });
});

describe('the fullest cart the API accepts can be ordered', () => {
  it('100 lines of 100 units at 999999.99: a 101st line is 422 CART_LINE_LIMIT, and the order totals 9999999900.00', async () => {
    const big = await makeProduct(shop.vendor, shop.category, {
      variants: Array.from({ length: 100 }, (_, i) => ({ sku: uniqueName(`FULL${i}`).toUpperCase(), price: MAX_PRICE, stock: 100 })),
    });
    const extra = await makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 5 });
    const b = await buyer(app);
    for (const v of big.variants) {
      const res = await b.api.POST('/api/cart/add/', { body: { variant: v.id, quantity: 100 } });
      expect(res.response.status).toBe(200);
    }
    const refused = await post(b, '/api/cart/add/', { variant: extra.variants[0].id, quantity: 1 });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('CART_LINE_LIMIT');
    expect(await cartRows(b)).toHaveLength(100);

    const cart = (await b.api.GET('/api/cart/')).data!;
    expect(cart).toMatchObject({ subtotal: '9999999900.00', total: '9999999900.00', item_count: 10_000 });
    const { data: order, response } = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
    expect(response.status).toBe(201);
    expect(order).toMatchObject({ subtotal: '9999999900.00', total: '9999999900.00' });
  });
});

describe('a cart whose total no order can hold is refused: 422 CART_TOTAL_LIMIT', () => {
  it('at add to cart, leaving the cart as it was', async () => {
    const p = await makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 10 });
    await legacyPrice(p.variants[0].id, '9999999999.99');
    const b = await buyer(app);
    expect((await b.api.POST('/api/cart/add/', { body: { variant: p.variants[0].id, quantity: 1 } })).response.status).toBe(200);
    const res = await post(b, '/api/cart/add/', { variant: p.variants[0].id, quantity: 1 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'CART_TOTAL_LIMIT', max_total: '9999999999.99' });
    expect(await cartRows(b)).toEqual([{ variant_id: p.variants[0].id, quantity: 1 }]);
  });

  it('at a quantity update, leaving the line as it was', async () => {
    const p = await makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 10 });
    await legacyPrice(p.variants[0].id, '5000000000.00');
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 1 }]);
    const itemId = (await b.api.GET('/api/cart/')).data!.items[0]!.id;
    const res = await post(b, `/api/cart/update/${itemId}/`, { quantity: 2 }, 'PATCH');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('CART_TOTAL_LIMIT');
    expect(await cartRows(b)).toEqual([{ variant_id: p.variants[0].id, quantity: 1 }]);
  });

  it('at checkout, where nothing is written: no order, stock and cart unchanged', async () => {
    const [p, q] = await Promise.all([
      makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 10 }),
      makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 10 }),
    ]);
    const b = await buyer(app, [{ variant: p.variants[0].id }, { variant: q.variants[0].id }]);
    // The prices rise after the lines were added (rows written before the bound existed).
    await legacyPrice(p.variants[0].id, '9999999999.99');
    await legacyPrice(q.variants[0].id, '9999999999.99');
    const res = await post(b, '/api/order/', { shipping_address: b.address });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'CART_TOTAL_LIMIT', max_total: '9999999999.99' });
    expect(await sql(app, 'select id from orders where user_id = ?', [b.user.id])).toEqual([]);
    expect(await stockOf(app, p.variants[0].id)).toBe(10);
    expect(await stockOf(app, q.variants[0].id)).toBe(10);
    expect(await cartRows(b)).toHaveLength(2);
  });

  it('GraphQL answers the same code', async () => {
    const p = await makeProduct(shop.vendor, shop.category, { price: '1.00', stock: 10 });
    await legacyPrice(p.variants[0].id, '9999999999.99');
    const b = await actor(app);
    const add = `mutation($v: Int!, $q: Int!) { addToCart(variant: $v, quantity: $q) { total } }`;
    expect((await gql(app, add, { v: p.variants[0].id, q: 1 }, b.tokens.access)).errors).toBeUndefined();
    const r = await gql(app, add, { v: p.variants[0].id, q: 1 }, b.tokens.access);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'CART_TOTAL_LIMIT', status: 422, max_total: '9999999999.99' });
  });
});
