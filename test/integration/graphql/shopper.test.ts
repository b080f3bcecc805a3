import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { buyer } from '../../support/checkout';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { codes, firstError, gql } from '../../support/graphql';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let admin: Actor;
let vendor: Actor;
let category: number;
beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

const CART_FIELDS = `id items { id variant { id sku name attributes { name value } } product { id name slug image } unit_price added_unit_price
  price_changed quantity line_total discount tax_rate tax available problem } item_count subtotal discount shipping tax total taxes_included currency
  coupon coupon_problem shipping_address shipping_method { id name carrier delivery_days_min delivery_days_max price } updated_at`;

/** The REST cart with attributes as GraphQL lists them. */
async function restCart(a: Actor) {
  const cart = (await a.api.GET('/api/cart/')).data!;
  return {
    ...cart,
    items: cart.items.map((i) => ({ ...i, variant: { ...i.variant, attributes: Object.entries(i.variant.attributes).map(([name, value]) => ({ name, value })) } })),
  };
}

async function variant(price = '10.00', stock = 10): Promise<number> {
  return (await makeProduct(vendor, category, { price, stock })).variants[0].id;
}

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
    id user email status payment_status items { id product variant product_name variant_name sku unit_price quantity line_total discount tax_rate tax total }
    shipping_address { recipient_name phone line1 line2 city region postal_code country }
    shipping_method { id name carrier delivery_days_min delivery_days_max } coupon subtotal discount shipping tax total taxes_included refunded_total currency
    expires_at created_at updated_at paid_at cancelled_at } }`;

describe('authentication', () => {
  const PRIVATE = ['{ me { id } }', '{ cart { id } }', '{ orders { edges { node { id } } } }', '{ wishlist { edges { node { id } } } }'];
  const MUTATIONS = [
    'mutation { addToCart(variant: 1) { id } }',
    'mutation { updateCartItem(item_id: 1, quantity: 2) { id } }',
    'mutation { removeCartItem(item_id: 1) { id } }',
    'mutation { applyCoupon(code: "X") { id } }',
    'mutation { removeCoupon { id } }',
    'mutation { placeOrder(input: { shipping_address: 1 }) { id } }',
    'mutation { addToWishlist(product: 1) { created } }',
    'mutation { removeFromWishlist(item_id: 1) }',
    'mutation { postReview(input: { product: 1, rating: 5 }) { id } }',
  ];

  it('refuses anonymous callers with NOT_AUTHENTICATED (401), and nothing changes', async () => {
    for (const query of [...PRIVATE, ...MUTATIONS]) {
      const res = await gql(app, query);
      expect(codes(res)).toEqual(['NOT_AUTHENTICATED']);
      expect(firstError(res).extensions).toMatchObject({ status: 401 });
      expect(res.data).toBeNull();
    }
    expect(await sql(app, 'select id from reviews')).toEqual([]);
  });

  it('verifies tokens like REST: bad, expired-looking or refresh tokens are refused, even on public fields', async () => {
    const u = await actor(app);
    for (const token of ['not-a-jwt', u.tokens.refresh, `${u.tokens.access.slice(0, -3)}abc`]) {
      expect(codes(await gql(app, '{ me { id } }', undefined, token))).toEqual(['INVALID_TOKEN']);
      expect(codes(await gql(app, '{ products { edges { node { id } } } }', undefined, token))).toEqual(['INVALID_TOKEN']);
    }
    // categoryTree is public like GET /api/category/tree/ (which takes no credentials).
    expect((await gql(app, '{ categoryTree { id } }', undefined, 'not-a-jwt')).errors).toBeUndefined();
    // Revoked sessions: a changed password invalidates earlier access tokens.
    const changed = await u.api.POST('/api/auth/password/', { body: { current_password: u.password, new_password: 'another-good-password-456' } });
    expect(changed.response.status).toBe(200);
    expect(codes(await gql(app, '{ me { id } }', undefined, u.tokens.access))).toEqual(['INVALID_TOKEN']);
  });

  it('me is GET /api/auth/me/', async () => {
    const u = await actor(app);
    const res = await gql(app, '{ me { id username email email_verified first_name last_name phone role is_active date_joined last_login updated_at } }', undefined, u.tokens.access);
    expect(res.data.me).toEqual((await u.api.GET('/api/auth/me/')).data);
  });
});

describe('cart', () => {
  it('adds, updates, removes lines and answers the same cart as GET /api/cart/', async () => {
    const u = await actor(app);
    const v1 = await variant('19.99', 10);
    const v2 = await variant('0.10', 50);
    const token = u.tokens.access;
    let res = await gql(app, `mutation($v: Int!) { addToCart(variant: $v, quantity: 2) { ${CART_FIELDS} } }`, { v: v1 }, token);
    expect(res.errors).toBeUndefined();
    res = await gql(app, `mutation($v: Int!) { addToCart(variant: $v) { ${CART_FIELDS} } }`, { v: v2 }, token);
    expect(res.data.addToCart).toMatchObject({ item_count: 3, subtotal: '40.08' });
    expect(res.data.addToCart).toEqual(await restCart(u));
    const line = res.data.addToCart.items[1].id;
    res = await gql(app, `mutation($i: Int!) { updateCartItem(item_id: $i, quantity: 5) { ${CART_FIELDS} } }`, { i: line }, token);
    expect(res.data.updateCartItem).toMatchObject({ item_count: 7, subtotal: '40.48' });
    res = await gql(app, `mutation($i: Int!) { removeCartItem(item_id: $i) { ${CART_FIELDS} } }`, { i: line }, token);
    expect(res.data.removeCartItem.items.map((i: { variant: { id: number } }) => i.variant.id)).toEqual([v1]);
    const read = await gql(app, `{ cart { ${CART_FIELDS} } }`, undefined, token);
    expect(read.data.cart).toEqual(await restCart(u));
  });

  it('applies and removes coupons with the same rules', async () => {
    const u = await actor(app);
    const code = uniqueName('CODE').toUpperCase();
    expect((await admin.api.POST('/api/discount/', { body: { code, kind: 'percentage', value: '10', min_subtotal: '5' } })).response.status).toBe(201);
    const token = u.tokens.access;
    await gql(app, 'mutation($v: Int!) { addToCart(variant: $v, quantity: 2) { id } }', { v: await variant('10.00') }, token);
    const applied = await gql(app, 'mutation($c: String!) { applyCoupon(code: $c) { coupon discount total } }', { c: code }, token);
    expect(applied.data.applyCoupon).toEqual({ coupon: code, discount: '2.00', total: '18.00' });
    const unknown = await gql(app, 'mutation { applyCoupon(code: "NOPE-NOPE") { coupon } }', undefined, token);
    expect(codes(unknown)).toEqual(['UNKNOWN_COUPON']);
    expect(firstError(unknown).extensions).toMatchObject({ status: 422 });
    expect(codes(await gql(app, 'mutation { applyCoupon(code: "") { coupon } }', undefined, token))).toEqual(['VALIDATION_ERROR']);
    const removed = await gql(app, 'mutation { removeCoupon { coupon discount total } }', undefined, token);
    expect(removed.data.removeCoupon).toEqual({ coupon: null, discount: '0.00', total: '20.00' });
  });

  it('refuses bad input with the REST codes', async () => {
    const u = await actor(app);
    const token = u.tokens.access;
    const v = await variant('1.00', 2);
    const add = (variables: Record<string, unknown>) => gql(app, 'mutation($v: Int!, $q: Int) { addToCart(variant: $v, quantity: $q) { id } }', variables, token);
    expect(codes(await add({ v, q: 0 }))).toEqual(['VALIDATION_ERROR']);
    expect(firstError(await add({ v, q: 0 })).extensions!.errors).toEqual([{ field: 'quantity', message: expect.any(String) }]);
    expect(codes(await add({ v: 0 }))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await add({ v: 99999999 }))).toEqual(['UNKNOWN_VARIANT']);
    const stock = await add({ v, q: 3 });
    expect(codes(stock)).toEqual(['INSUFFICIENT_STOCK']);
    expect(firstError(stock).extensions).toMatchObject({ status: 409, available: 2, variant: v });
    expect(codes(await add({ v: 'x' }))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it("cannot touch another user's cart lines (NOT_FOUND)", async () => {
    const [owner, other] = [await actor(app), await actor(app)];
    const cart = await gql(app, 'mutation($v: Int!) { addToCart(variant: $v) { items { id } } }', { v: await variant() }, owner.tokens.access);
    const line = cart.data.addToCart.items[0].id;
    for (const query of ['mutation($i: Int!) { updateCartItem(item_id: $i, quantity: 3) { id } }', 'mutation($i: Int!) { removeCartItem(item_id: $i) { id } }']) {
      const res = await gql(app, query, { i: line }, other.tokens.access);
      expect(codes(res)).toEqual(['NOT_FOUND']);
      expect(firstError(res).extensions).toMatchObject({ status: 404 });
    }
    expect((await owner.api.GET('/api/cart/')).data!.items.map((i) => [i.id, i.quantity])).toEqual([[line, 1]]);
  });
});

describe('orders', () => {

  it('places an order from the cart like POST /api/order/, replays it by idempotency key, and lists it', async () => {
    const v = await variant('12.00', 5);
    const b = await buyer(app, [{ variant: v, quantity: 2 }]);
    const key = `gql-${uniqueName('k')}`;
    const placed = await gql(app, PLACE, { input: { shipping_address: b.address, idempotency_key: key } }, b.tokens.access);
    expect(placed.errors).toBeUndefined();
    const order = placed.data.placeOrder;
    expect(order).toMatchObject({ user: b.user.id, status: 'pending_payment', total: '24.00', items: [{ variant: v, quantity: 2, line_total: '24.00' }] });
    const { shipment: _shipment, ...rest } = (await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(order).toEqual(rest);

    const replay = await gql(app, PLACE, { input: { shipping_address: b.address, idempotency_key: key } }, b.tokens.access);
    expect(replay.data.placeOrder.id).toBe(order.id);
    const reused = await gql(app, PLACE, { input: { shipping_address: b.address, coupon: 'OTHER', idempotency_key: key } }, b.tokens.access);
    expect(codes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(codes(await gql(app, PLACE, { input: { shipping_address: b.address } }, b.tokens.access))).toEqual(['CART_EMPTY']);

    const list = await gql(app, '{ orders { edges { node { id user status payment_status item_count total currency created_at } } pageInfo { hasNextPage } } }', undefined, b.tokens.access);
    expect(list.data.orders.edges.map((e: { node: unknown }) => e.node)).toEqual((await b.api.GET('/api/order/')).data!.results);
    expect(list.data.orders.edges).toHaveLength(1);
    const cancelled = await gql(app, '{ orders(status: cancelled) { edges { node { id } } } }', undefined, b.tokens.access);
    expect(cancelled.data.orders.edges).toEqual([]);
    // A variable takes REST's string.
    const pending = await gql(app, 'query($s: OrderStatus) { orders(status: $s) { edges { node { id } } } }', { s: 'pending_payment' }, b.tokens.access);
    expect(pending.data.orders.edges).toEqual([{ node: { id: order.id } }]);
    // Status is an enum: GraphQL's own validation refuses another value, naming it, before anything runs.
    for (const [query, variables] of [
      ['{ orders(status: lost) { edges { node { id } } } }', undefined],
      ['{ orders(status: "cancelled") { edges { node { id } } } }', undefined],
      ['query($s: OrderStatus) { orders(status: $s) { edges { node { id } } } }', { s: 'lost' }],
    ] as const) {
      const res = await gql(app, query, variables, b.tokens.access);
      expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(firstError(res).message).toMatch(/OrderStatus/);
    }

    // Another customer sees none of it.
    const other = await actor(app);
    expect((await gql(app, '{ orders { edges { node { id } } } }', undefined, other.tokens.access)).data.orders.edges).toEqual([]);
  });

  it('refuses an address that is not yours and bad input, placing nothing', async () => {
    const v = await variant('3.00', 5);
    const [b, stranger] = [await buyer(app, [{ variant: v }]), await buyer(app)];
    expect(codes(await gql(app, PLACE, { input: { shipping_address: stranger.address } }, b.tokens.access))).toEqual(['UNKNOWN_ADDRESS']);
    expect(codes(await gql(app, PLACE, { input: { shipping_address: b.address, idempotency_key: 'has spaces' } }, b.tokens.access))).toEqual([
      'VALIDATION_ERROR',
    ]);
    expect(codes(await gql(app, PLACE, { input: { shipping_address: 0 } }, b.tokens.access))).toEqual(['VALIDATION_ERROR']);
    expect(await sql(app, 'select id from orders where user_id = ?', [b.user.id])).toEqual([]);
  });
});

describe('shipping and tax', () => {
  it('lists shipping options, prices the cart for an address and a method, and places the order with it, as REST does', async () => {
    const z = (await admin.api.POST('/api/shipping-zone/', { body: { name: 'Canada', areas: [{ country: 'CA' }], shipping_taxable: true } })).data!;
    const slow = (await admin.api.POST('/api/shipping-method/', { body: { zone: z.id, name: 'Post', rate_type: 'flat', flat_price: '5.00', delivery_days_min: 3, delivery_days_max: 7 } })).data!;
    const fast = (await admin.api.POST('/api/shipping-method/', { body: { zone: z.id, name: 'Courier', carrier: 'Purolator', rate_type: 'flat', flat_price: '15.00' } })).data!;
    await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', rate: '5', name: 'GST' } });
    await admin.api.POST('/api/tax-rate/', { body: { country: 'CA', region: 'ON', rate: '13', name: 'HST' } });
    const v = await variant('20.00', 5);
    const b = await actor(app);
    const address = (await b.api.POST('/api/address/', { body: { recipient_name: 'Lee', line1: '1 Bay St', city: 'Toronto', region: 'on', postal_code: 'M5J 2N8', country: 'CA' } })).data!.id;
    await b.api.POST('/api/cart/add/', { body: { variant: v, quantity: 2 } });

    const options = await gql(app, 'query($a: Int!) { shippingOptions(address: $a) { address country region options { id name carrier delivery_days_min delivery_days_max price } } }', { a: address }, b.tokens.access);
    expect(options.errors).toBeUndefined();
    expect(options.data.shippingOptions).toEqual((await b.api.GET('/api/cart/shipping-options/', { params: { query: { address } } })).data);
    expect(options.data.shippingOptions.options.map((o: { id: number }) => o.id)).toEqual([slow.id, fast.id]);

    const cart = await gql(app, `query($a: Int, $m: Int) { cart(address: $a, shipping_method: $m) { ${CART_FIELDS} } }`, { a: address, m: fast.id }, b.tokens.access);
    expect(cart.errors).toBeUndefined();
    const rest = (await b.api.GET('/api/cart/', { params: { query: { address, shipping_method: fast.id } } })).data!;
    expect({ ...cart.data.cart, items: cart.data.cart.items.map((i: { variant: { attributes: unknown } }) => ({ ...i, variant: { ...i.variant, attributes: {} } })) }).toEqual({
      ...rest,
      items: rest.items.map((i) => ({ ...i, variant: { ...i.variant, attributes: {} } })),
    });
    // Ontario's HST replaces Canada's GST: 40.00 × 13% + 15.00 × 13%.
    expect(cart.data.cart).toMatchObject({ shipping: '15.00', tax: '7.15', total: '62.15', shipping_method: { id: fast.id, carrier: 'Purolator' } });

    const wrong = await gql(app, '{ cart(address: 1, shipping_method: 999999) { total } }', undefined, b.tokens.access);
    expect(codes(wrong)).toEqual(['UNKNOWN_ADDRESS']);
    expect(codes(await gql(app, 'query($a: Int) { cart(address: $a, shipping_method: 999999) { total } }', { a: address }, b.tokens.access))).toEqual(['UNKNOWN_SHIPPING_METHOD']);
    expect(codes(await gql(app, '{ cart(shipping_method: 1) { total } }', undefined, b.tokens.access))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await gql(app, '{ shippingOptions(address: 0) { address } }', undefined, b.tokens.access))).toEqual(['VALIDATION_ERROR']);

    const placed = await gql(app, PLACE, { input: { shipping_address: address, shipping_method: fast.id } }, b.tokens.access);
    expect(placed.errors).toBeUndefined();
    expect(placed.data.placeOrder).toMatchObject({ shipping: '15.00', tax: '7.15', total: '62.15', taxes_included: false, shipping_method: { id: fast.id, name: 'Courier' } });
    expect(placed.data.placeOrder.items).toEqual([expect.objectContaining({ discount: '0.00', tax_rate: '13.000', tax: '5.20', total: '45.20' })]);
  });

  it('refuses an address nothing ships to with NO_SHIPPING_METHOD, placing nothing', async () => {
    const v = await variant('3.00', 5);
    const b = await actor(app);
    const address = (await b.api.POST('/api/address/', { body: { recipient_name: 'Kai', line1: '1 Queen St', city: 'Auckland', postal_code: '1010', country: 'NZ' } })).data!.id;
    await b.api.POST('/api/cart/add/', { body: { variant: v } });
    expect(codes(await gql(app, PLACE, { input: { shipping_address: address } }, b.tokens.access))).toEqual(['NO_SHIPPING_METHOD']);
    expect(await sql(app, 'select id from orders where user_id = ?', [b.user.id])).toEqual([]);
  });
});

describe('wishlist', () => {
  it('adds idempotently, lists newest first like GET /api/wishlist/, pages, and removes', async () => {
    const u = await actor(app);
    const token = u.tokens.access;
    const products = [await makeProduct(vendor, category), await makeProduct(vendor, category), await makeProduct(vendor, category)];
    const ADD = 'mutation($p: Int!) { addToWishlist(product: $p) { created item { id added_at product { id name price category { id } } } } }';
    const first = await gql(app, ADD, { p: firstOf(products).id }, token);
    expect(first.data.addToWishlist).toMatchObject({ created: true, item: { product: { id: firstOf(products).id, price: '10.00', category: { id: category } } } });
    const again = await gql(app, ADD, { p: firstOf(products).id }, token);
    expect(again.data.addToWishlist).toMatchObject({ created: false, item: { id: first.data.addToWishlist.item.id } });
    for (const p of products.slice(1)) await gql(app, ADD, { p: p.id }, token);

    const LIST = 'query($after: String) { wishlist(first: 2, after: $after) { edges { node { id product { id } } } pageInfo { hasNextPage endCursor } } }';
    const page1 = await gql(app, LIST, {}, token);
    const page2 = await gql(app, LIST, { after: page1.data.wishlist.pageInfo.endCursor }, token);
    const seen = [...page1.data.wishlist.edges, ...page2.data.wishlist.edges].map((e: { node: { product: { id: number } } }) => e.node.product.id);
    expect(seen).toEqual((await u.api.GET('/api/wishlist/')).data!.results.map((r) => r.product.id));
    expect(seen).toEqual(products.map((p) => p.id).reverse());

    const other = await actor(app);
    const item = first.data.addToWishlist.item.id;
    expect(codes(await gql(app, 'mutation($i: Int!) { removeFromWishlist(item_id: $i) }', { i: item }, other.tokens.access))).toEqual(['NOT_FOUND']);
    expect((await gql(app, '{ wishlist { edges { node { id } } } }', undefined, other.tokens.access)).data.wishlist.edges).toEqual([]);
    expect((await gql(app, 'mutation($i: Int!) { removeFromWishlist(item_id: $i) }', { i: item }, token)).data).toEqual({ removeFromWishlist: true });
    expect((await u.api.GET('/api/wishlist/')).data!.results).toHaveLength(2);
    expect(codes(await gql(app, ADD, { p: 99999999 }, token))).toEqual(['UNKNOWN_PRODUCT']);
  });
});

describe('reviews', () => {
  const POST = 'mutation($input: ReviewInput!) { postReview(input: $input) { id product user { id username } rating title comment verified_purchase created_at updated_at } }';

  it('posts a review like POST /api/review/, once per product', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category);
    const res = await gql(app, POST, { input: { product: p.id, rating: 4, title: ' Nice ', comment: 'Fits well' } }, u.tokens.access);
    expect(res.errors).toBeUndefined();
    expect(res.data.postReview).toMatchObject({ product: p.id, user: { id: u.user.id, username: u.user.username }, rating: 4, title: 'Nice', verified_purchase: false });
    expect(res.data.postReview).toEqual((await app.api.GET('/api/review/{id}/', { params: { path: { id: res.data.postReview.id } } })).data);
    expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.rating).toEqual({ average: '4.00', count: 1 });
    const again = await gql(app, POST, { input: { product: p.id, rating: 5 } }, u.tokens.access);
    expect(codes(again)).toEqual(['ALREADY_REVIEWED']);
    expect(firstError(again).extensions).toMatchObject({ status: 409 });
  });

  it('checks the rating, the texts and the product', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category);
    for (const input of [{ product: p.id, rating: 6 }, { product: p.id, rating: 0 }, { product: p.id, rating: 3, title: 'x'.repeat(121) }]) {
      const res = await gql(app, POST, { input }, u.tokens.access);
      expect(codes(res)).toEqual(['VALIDATION_ERROR']);
      expect(firstError(res).extensions!.errors[0].field).toMatch(/^input\.(rating|title)$/);
    }
    expect(codes(await gql(app, POST, { input: { product: 99999999, rating: 3 } }, u.tokens.access))).toEqual(['UNKNOWN_PRODUCT']);
    expect(await sql(app, 'select id from reviews where product_id = ?', [p.id])).toEqual([]);
  });
});
