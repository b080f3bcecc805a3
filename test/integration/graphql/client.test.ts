import { startApp, type TestApp } from '../../support/app';
import { openShop, product, type Shop, shipToTestAddresses } from '../../support/checkout';
import { actor, type Actor, registerCustomer, sql, uniqueName } from '../../support/factories';
import { codes, firstError, gql, type GraphQLResponse } from '../../support/graphql';

/**
 * The operations a GraphQL-only storefront needs beyond the catalog and the cart: sessions,
 * addresses, one order, payment; each checked against what REST answers for the same call.
 */
let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
  await shipToTestAddresses(app, 'GB'); // HOME's country
});
afterAll(() => app.close());

const PAIR = 'access refresh';
const ADDRESS_FIELDS = 'id kind recipient_name phone line1 line2 city region postal_code country is_default created_at updated_at';
const PAYMENT_FIELDS = 'id order method amount currency status provider_answered provider provider_reference failure_code created_at updated_at succeeded_at';
const ORDER_FIELDS = `id user email status payment_status items { id product variant product_name variant_name sku unit_price quantity line_total discount tax_rate tax total }
  shipping_address { recipient_name phone line1 line2 city region postal_code country }
  shipping_method { id name carrier delivery_days_min delivery_days_max } coupon subtotal discount shipping tax total taxes_included refunded_total currency
  shipment { id order carrier tracking_number status shipped_at delivered_at created_at updated_at }
  expires_at created_at updated_at paid_at cancelled_at`;

const USER_FIELDS = 'id username email email_verified first_name last_name phone role is_active date_joined last_login updated_at';
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ${USER_FIELDS} } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${PAIR} } }`;
const REFRESH = `mutation($r: String!) { refreshToken(refresh: $r) { ${PAIR} } }`;
const LOGOUT = 'mutation($r: String!) { logout(refresh: $r) }';
const CREATE_ADDRESS = `mutation($input: AddressCreateInput!) { createAddress(input: $input) { ${ADDRESS_FIELDS} } }`;
const UPDATE_ADDRESS = `mutation($id: Int!, $input: AddressUpdateInput!) { updateAddress(id: $id, input: $input) { ${ADDRESS_FIELDS} } }`;
const DELETE_ADDRESS = 'mutation($id: Int!) { deleteAddress(id: $id) }';
const ADDRESS = `query($id: Int!) { address(id: $id) { ${ADDRESS_FIELDS} } }`;
const ADDRESSES = `query($first: Int, $after: String) { addresses(first: $first, after: $after) { edges { cursor node { ${ADDRESS_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const ORDER = `query($id: Int!) { order(id: $id) { ${ORDER_FIELDS} } }`;
const PAY = `mutation($input: PaymentInput!) { initiatePayment(input: $input) { created payment { ${PAYMENT_FIELDS} } } }`;

const HOME = { recipient_name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' };

/** The data of a response that must have succeeded. */
function ok<D>(res: GraphQLResponse<D>): D {
  expect(res.errors).toBeUndefined();
  return res.data!;
}

/** A failed response: its one error's code, HTTP-equivalent status and field names, and no data. */
function refusal(res: GraphQLResponse) {
  expect(res.errors).toHaveLength(1);
  const e = firstError(res).extensions ?? {};
  return { code: e.code, status: e.status, fields: (e.errors ?? []).map((i: { field: string }) => i.field), data: res.data ?? null };
}

async function addressIds(a: Actor): Promise<number[]> {
  return (await sql<{ id: number }>(app, 'select id from addresses where user_id = ? order by id', [a.user.id])).map((r) => r.id);
}

/** A customer with an order waiting for payment (built over REST: this file tests the GraphQL side). */
async function orderWaiting(price = '10.00'): Promise<{ buyer: Actor; order: number }> {
  const buyer = await actor(app);
  const made = await product(app, shop, price, 5);
  const { data: address } = await buyer.api.POST('/api/address/', { body: HOME });
  await buyer.api.POST('/api/cart/add/', { body: { variant: made.variants[0].id, quantity: 1 } });
  const { data: order } = await buyer.api.POST('/api/order/', { body: { shipping_address: address!.id } });
  return { buyer, order: order!.id };
}

describe('register', () => {
  it('creates a customer like POST /api/auth/register/: the same user REST reads, who can log in', async () => {
    const username = uniqueName('gqlreg');
    const input = { username, email: `${username}@example.com`, password: 'a-good-password-123', first_name: 'Ada', phone: '+442071234567' };
    const { register } = ok(await gql(app, REGISTER, { input }));
    expect(register).toMatchObject({ username, email: `${username}@example.com`, first_name: 'Ada', last_name: '', phone: '+442071234567', role: 'customer', is_active: true, last_login: null });
    const { login } = ok(await gql(app, LOGIN, { input: { username, password: input.password } }));
    const me = (await app.as(login.access).GET('/api/auth/me/')).data!;
    expect(ok(await gql(app, `{ me { ${USER_FIELDS} } }`, undefined, login.access)).me).toEqual({ ...me, last_login: me.last_login });
  });

  it('refuses a taken username or e-mail regardless of case (409), and bad input naming the field; writes nothing', async () => {
    const { user } = await registerCustomer(app);
    const again = { username: user.username.toUpperCase(), email: `other-${user.username}@example.com`, password: 'a-good-password-123' };
    expect(refusal(await gql(app, REGISTER, { input: again }))).toMatchObject({ code: 'USERNAME_TAKEN', status: 409, data: null });
    const sameEmail = { username: uniqueName('gqlreg'), email: user.email.toUpperCase(), password: 'a-good-password-123' };
    expect(refusal(await gql(app, REGISTER, { input: sameEmail }))).toMatchObject({ code: 'EMAIL_TAKEN', status: 409 });
    const fresh = uniqueName('gqlreg');
    expect(refusal(await gql(app, REGISTER, { input: { username: fresh, email: 'not-an-email', password: 'a-good-password-123' } }))).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, fields: ['input.email'] });
    expect(refusal(await gql(app, REGISTER, { input: { username: fresh, email: `${fresh}@example.com`, password: 'short' } })).fields).toEqual(['input.password']);
    expect(refusal(await gql(app, REGISTER, { input: { username: `${fresh}\u0000`, email: `${fresh}@example.com`, password: 'a-good-password-123' } })).status).toBe(400);
    const written = await sql<{ n: number }>(app, 'select count(*)::int as n from users where lower(username) in (?, ?) or lower(email) = ?', [fresh.toLowerCase(), sameEmail.username.toLowerCase(), 'not-an-email']);
    expect(written[0]!.n).toBe(0);
  });
});

describe('sessions: login, refreshToken, logout', () => {
  it('logs in like POST /api/auth/jwt/login/: a pair whose tokens work in both APIs', async () => {
    const { user, password } = await registerCustomer(app);
    const { login } = ok(await gql(app, LOGIN, { input: { username: user.username, password } }));
    expect(login).toEqual({ access: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), refresh: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
    expect(ok(await gql(app, '{ me { id username role } }', undefined, login.access)).me).toEqual({ id: user.id, username: user.username, role: 'customer' });
    expect((await app.as(login.access).GET('/api/auth/me/')).data!.id).toBe(user.id);
    // The REST refresh takes a GraphQL refresh token: one session store.
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: login.refresh } })).response.status).toBe(200);
  });

  it('takes no credentials: a bad Authorization header does not fail it (as REST, `security: []`)', async () => {
    const { user, password } = await registerCustomer(app);
    ok(await gql(app, LOGIN, { input: { username: user.username, password } }, 'not-a-jwt'));
  });

  it('refuses wrong credentials with one generic INVALID_CREDENTIALS, then throttles (LOGIN_THROTTLED with retry_after)', async () => {
    const { user, password } = await registerCustomer(app);
    const wrong = await gql(app, LOGIN, { input: { username: user.username, password: 'not-the-password' } });
    expect(refusal(wrong)).toEqual({ code: 'INVALID_CREDENTIALS', status: 401, fields: [], data: null });
    expect(refusal(await gql(app, LOGIN, { input: { username: uniqueName('nobody'), password } })).code).toBe('INVALID_CREDENTIALS');
    // LOGIN_MAX_FAILURES (5) failures for this username from this address, then even the right password waits.
    for (let i = 0; i < 4; i++) await gql(app, LOGIN, { input: { username: user.username, password: 'still-wrong' } });
    const throttled = await gql(app, LOGIN, { input: { username: user.username, password } });
    expect(refusal(throttled)).toMatchObject({ code: 'LOGIN_THROTTLED', status: 429 });
    expect(firstError(throttled).extensions!.retry_after).toBeGreaterThan(0);
  });

  it('rotates refresh tokens; a reused one revokes the session (REFRESH_TOKEN_REUSED)', async () => {
    const { user, password } = await registerCustomer(app);
    const first = ok(await gql(app, LOGIN, { input: { username: user.username, password } })).login;
    const second = ok(await gql(app, REFRESH, { r: first.refresh })).refreshToken;
    expect(second.refresh).not.toBe(first.refresh);
    ok(await gql(app, '{ me { id } }', undefined, second.access));
    expect(refusal(await gql(app, REFRESH, { r: first.refresh }))).toEqual({ code: 'REFRESH_TOKEN_REUSED', status: 401, fields: [], data: null });
    // The whole family is revoked, the successor too.
    expect(refusal(await gql(app, REFRESH, { r: second.refresh })).code).toBe('INVALID_REFRESH_TOKEN');
    expect(refusal(await gql(app, REFRESH, { r: first.access })).code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('logs out like POST /api/auth/logout/: the refresh token stops working; twice is harmless', async () => {
    const { user, password } = await registerCustomer(app);
    const pair = ok(await gql(app, LOGIN, { input: { username: user.username, password } })).login;
    expect(ok(await gql(app, LOGOUT, { r: pair.refresh }))).toEqual({ logout: true });
    expect(ok(await gql(app, LOGOUT, { r: pair.refresh }))).toEqual({ logout: true });
    expect(refusal(await gql(app, REFRESH, { r: pair.refresh })).code).toBe('INVALID_REFRESH_TOKEN');
    expect(refusal(await gql(app, LOGOUT, { r: 'not-a-token' })).code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('refuses bad input naming the field, as REST does', async () => {
    expect(refusal(await gql(app, LOGIN, { input: { username: '', password: 'x' } }))).toEqual({ code: 'VALIDATION_ERROR', status: 400, fields: ['input.username'], data: null });
    expect(refusal(await gql(app, LOGIN, { input: { username: 'a', password: 'x'.repeat(129) } })).fields).toEqual(['input.password']);
    expect(refusal(await gql(app, REFRESH, { r: '' })).fields).toEqual(['refresh']);
    expect(refusal(await gql(app, LOGOUT, { r: 'x'.repeat(2049) })).fields).toEqual(['refresh']);
    // A missing or mistyped argument is GraphQL's own validation failure.
    expect(codes(await gql(app, 'mutation { login(input: { username: "a" }) { access } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});

describe('addresses', () => {
  it('creates, reads, lists, updates and deletes like /api/address/', async () => {
    const u = await actor(app);
    const token = u.tokens.access;
    const first = ok(await gql(app, CREATE_ADDRESS, { input: { ...HOME, phone: '+44 20 7946 0958', line2: ' Flat 2 ' } }, token)).createAddress;
    // The first address is the default; texts are trimmed as REST trims them.
    expect(first).toMatchObject({ ...HOME, kind: 'home', phone: '+44 20 7946 0958', line2: 'Flat 2', region: '', is_default: true });
    expect(ok(await gql(app, ADDRESS, { id: first.id }, token)).address).toEqual((await u.api.GET('/api/address/{id}/', { params: { path: { id: first.id } } })).data);

    const work = ok(await gql(app, CREATE_ADDRESS, { input: { ...HOME, kind: 'work', line1: '1 Office Road', is_default: true } }, token)).createAddress;
    expect(work).toMatchObject({ kind: 'work', is_default: true });
    const third = ok(await gql(app, `mutation { createAddress(input: { kind: other, recipient_name: "Ada", line1: "3 Third St", city: "Leeds", postal_code: "LS1 1AA", country: "GB" }) { id kind is_default } }`, undefined, token)).createAddress;
    expect(third).toMatchObject({ kind: 'other', is_default: false });

    // Newest first, paged with the same cursors as REST.
    const page1 = ok(await gql(app, ADDRESSES, { first: 2 }, token)).addresses;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = ok(await gql(app, ADDRESSES, { first: 2, after: page1.pageInfo.endCursor }, token)).addresses;
    const listed = [...page1.edges, ...page2.edges].map((e: { node: { id: number } }) => e.node);
    expect(listed).toEqual((await u.api.GET('/api/address/')).data!.results);
    expect(listed.map((a) => a.id)).toEqual([third.id, work.id, first.id]);

    // Only the fields given change; a null phone clears it.
    const updated = ok(await gql(app, UPDATE_ADDRESS, { id: first.id, input: { phone: null, city: ' Bath ', is_default: true } }, token)).updateAddress;
    expect(updated).toMatchObject({ id: first.id, phone: null, city: 'Bath', line1: HOME.line1, is_default: true });
    expect(ok(await gql(app, ADDRESS, { id: work.id }, token)).address.is_default).toBe(false);

    // Deleting the default makes the newest remaining address the default.
    expect(ok(await gql(app, DELETE_ADDRESS, { id: first.id }, token))).toEqual({ deleteAddress: true });
    expect((await u.api.GET('/api/address/')).data!.results.map((a) => [a.id, a.is_default])).toEqual([
      [third.id, true],
      [work.id, false],
    ]);
  });

  it('refuses anonymous callers (NOT_AUTHENTICATED)', async () => {
    for (const [query, variables] of [
      [ADDRESSES, {}],
      [ADDRESS, { id: 1 }],
      [CREATE_ADDRESS, { input: HOME }],
      [UPDATE_ADDRESS, { id: 1, input: { city: 'X' } }],
      [DELETE_ADDRESS, { id: 1 }],
    ] as const) {
      expect(refusal(await gql(app, query, variables))).toEqual({ code: 'NOT_AUTHENTICATED', status: 401, fields: [], data: null });
    }
  });

  it("answers another user's address as NOT_FOUND (404), as REST does, and changes nothing", async () => {
    const [owner, other] = [await actor(app), await actor(app)];
    const mine = ok(await gql(app, CREATE_ADDRESS, { input: HOME }, owner.tokens.access)).createAddress;
    for (const [query, variables] of [
      [ADDRESS, { id: mine.id }],
      [UPDATE_ADDRESS, { id: mine.id, input: { city: 'Elsewhere' } }],
      [DELETE_ADDRESS, { id: mine.id }],
    ] as const) {
      expect(refusal(await gql(app, query, variables, other.tokens.access))).toEqual({ code: 'NOT_FOUND', status: 404, fields: [], data: null });
    }
    expect(ok(await gql(app, ADDRESSES, {}, other.tokens.access)).addresses.edges).toEqual([]);
    expect((await owner.api.GET('/api/address/{id}/', { params: { path: { id: mine.id } } })).data).toEqual(mine);
  });

  it('refuses bad input naming the field, as REST does, and writes nothing', async () => {
    const u = await actor(app);
    const token = u.tokens.access;
    const create = async (input: Record<string, unknown>) => refusal(await gql(app, CREATE_ADDRESS, { input }, token));
    expect(await create({ ...HOME, postal_code: '!!' })).toEqual({ code: 'VALIDATION_ERROR', status: 400, fields: ['input.postal_code'], data: null });
    expect((await create({ ...HOME, country: 'gb' })).fields).toEqual(['input.country']);
    expect((await create({ ...HOME, recipient_name: '' })).fields).toEqual(['input.recipient_name']);
    expect((await create({ ...HOME, phone: 'call me' })).fields).toEqual(['input.phone']);
    expect((await create({ ...HOME, line2: null })).fields).toEqual(['input.line2']);
    expect((await create({ ...HOME, kind: 'moon' })).code).toBe('GRAPHQL_VALIDATION_FAILED');
    // Required fields are non-null in the input type: GraphQL names each one missing.
    const missing = await gql(app, CREATE_ADDRESS, { input: { city: 'London' } }, token);
    expect(codes(missing)).toEqual(Array(4).fill('GRAPHQL_VALIDATION_FAILED'));
    expect(missing.errors!.map((e) => /Field "(\w+)"/.exec(e.message)?.[1])).toEqual(['recipient_name', 'line1', 'postal_code', 'country']);
    expect(await addressIds(u)).toEqual([]);

    const mine = ok(await gql(app, CREATE_ADDRESS, { input: HOME }, token)).createAddress;
    const update = async (id: number, input: Record<string, unknown>) => refusal(await gql(app, UPDATE_ADDRESS, { id, input }, token));
    expect(await update(mine.id, {})).toEqual({ code: 'VALIDATION_ERROR', status: 400, fields: ['input'], data: null });
    expect((await update(mine.id, { city: null })).fields).toEqual(['input.city']);
    expect((await update(mine.id, { city: 'x'.repeat(101) })).fields).toEqual(['input.city']);
    expect((await update(0, { city: 'X' })).fields).toEqual(['id']);
    expect(refusal(await gql(app, DELETE_ADDRESS, { id: -1 }, token)).fields).toEqual(['id']);
    expect(refusal(await gql(app, ADDRESS, { id: 0 }, token)).fields).toEqual(['id']);
    expect(refusal(await gql(app, ADDRESSES, { first: 101 }, token)).fields).toEqual(['first']);
    expect(ok(await gql(app, ADDRESS, { id: mine.id }, token)).address).toEqual(mine);
  });
});

describe('order', () => {
  it('reads one order like GET /api/order/{id}/, shipment included; admins read any', async () => {
    const { buyer, order } = await orderWaiting('7.50');
    const rest = (await buyer.api.GET('/api/order/{id}/', { params: { path: { id: order } } })).data!;
    expect(ok(await gql(app, ORDER, { id: order }, buyer.tokens.access)).order).toEqual(rest);
    expect(rest).toMatchObject({ status: 'pending_payment', payment_status: 'unpaid', shipment: null });
    expect(ok(await gql(app, ORDER, { id: order }, shop.admin.tokens.access)).order).toEqual(rest);

    ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_success' } }, buyer.tokens.access));
    const shipped = await shop.admin.api.POST('/api/shipments/{order_id}/', { params: { path: { order_id: order } }, body: { carrier: 'DHL', tracking_number: 'JD0146' } });
    expect(shipped.response.status).toBe(201);
    const read = ok(await gql(app, ORDER, { id: order }, buyer.tokens.access)).order;
    expect(read).toEqual((await buyer.api.GET('/api/order/{id}/', { params: { path: { id: order } } })).data);
    expect(read).toMatchObject({ status: 'paid', payment_status: 'paid', shipment: { carrier: 'DHL', status: shipped.data!.status } });
  });

  it("answers another customer's order as NOT_FOUND (404), an anonymous caller NOT_AUTHENTICATED, a bad id VALIDATION_ERROR", async () => {
    const { order } = await orderWaiting();
    const other = await actor(app);
    expect(refusal(await gql(app, ORDER, { id: order }, other.tokens.access))).toEqual({ code: 'NOT_FOUND', status: 404, fields: [], data: null });
    expect(refusal(await gql(app, ORDER, { id: 2147483647 }, other.tokens.access)).code).toBe('NOT_FOUND');
    expect(refusal(await gql(app, ORDER, { id: order }))).toEqual({ code: 'NOT_AUTHENTICATED', status: 401, fields: [], data: null });
    expect(refusal(await gql(app, ORDER, { id: 0 }, other.tokens.access))).toEqual({ code: 'VALIDATION_ERROR', status: 400, fields: ['id'], data: null });
  });
});

describe('initiatePayment', () => {
  it('pays like POST /api/payment/initiate/; paying again answers the same payment (created false)', async () => {
    const { buyer, order } = await orderWaiting('12.00');
    const paid = ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_success' } }, buyer.tokens.access)).initiatePayment;
    expect(paid).toMatchObject({ created: true, payment: { order, method: 'card', amount: '12.00', status: 'succeeded', provider_answered: true, failure_code: null } });
    const report = (await buyer.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order } } })).data!;
    expect(report.payments).toEqual([paid.payment]);
    expect(report).toMatchObject({ order_status: 'paid', payment_status: 'paid' });
    const again = ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_decline' } }, buyer.tokens.access)).initiatePayment;
    expect(again).toEqual({ created: false, payment: paid.payment });
  });

  it('replays by idempotency key, refuses a key reused with other input, and pays again after a decline', async () => {
    const { buyer, order } = await orderWaiting();
    const token = buyer.tokens.access;
    const key = `pay-${uniqueName('k')}`;
    const declined = ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_decline', idempotency_key: key } }, token)).initiatePayment;
    expect(declined).toMatchObject({ created: true, payment: { status: 'failed', failure_code: 'card_declined' } });
    const replay = ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_decline', idempotency_key: key } }, token)).initiatePayment;
    expect(replay.payment).toEqual(declined.payment);
    const reused = await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_success', idempotency_key: key } }, token);
    expect(refusal(reused)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422, data: null });
    const retried = ok(await gql(app, PAY, { input: { order, method: 'card', card_token: 'tok_success', idempotency_key: `${key}-2` } }, token)).initiatePayment;
    expect(retried).toMatchObject({ created: true, payment: { status: 'succeeded' } });
    expect(retried.payment.id).not.toBe(declined.payment.id);
  });

  it("follows REST's rules: the owner's order only, waiting for payment, a card needs its token", async () => {
    const { buyer, order } = await orderWaiting();
    const other = await actor(app);
    // `null`: anonymous.
    const pay = (input: Record<string, unknown>, token: string | null = buyer.tokens.access) => gql(app, PAY, { input }, token ?? undefined);
    expect(refusal(await pay({ order, method: 'card', card_token: 'tok_success' }, other.tokens.access))).toEqual({ code: 'NOT_FOUND', status: 404, fields: [], data: null });
    expect(refusal(await pay({ order, method: 'card', card_token: 'tok_success' }, null))).toMatchObject({ code: 'NOT_AUTHENTICATED', status: 401 });
    expect(refusal(await pay({ order, method: 'card' }))).toEqual({ code: 'CARD_TOKEN_REQUIRED', status: 422, fields: ['input.card_token'], data: null });
    expect(refusal(await pay({ order, method: 'mobile' }))).toEqual({ code: 'PHONE_REQUIRED', status: 422, fields: ['input.phone'], data: null });
    expect((await buyer.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order } } })).response.status).toBe(200);
    expect(refusal(await pay({ order, method: 'card', card_token: 'tok_success' }))).toMatchObject({ code: 'ORDER_NOT_PAYABLE', status: 409 });
    expect(await sql(app, 'select id from payments where order_id = ?', [order])).toEqual([]);
  });

  it('refuses bad input naming the field, and charges nothing', async () => {
    const { buyer, order } = await orderWaiting();
    const pay = async (input: Record<string, unknown>) => refusal(await gql(app, PAY, { input }, buyer.tokens.access));
    expect(await pay({ order: 0, method: 'card', card_token: 'tok_success' })).toEqual({ code: 'VALIDATION_ERROR', status: 400, fields: ['input.order'], data: null });
    expect((await pay({ order, method: 'card', card_token: '' })).fields).toEqual(['input.card_token']);
    expect((await pay({ order, method: 'mobile', phone: 'call me' })).fields).toEqual(['input.phone']);
    expect((await pay({ order, method: 'card', card_token: 'tok_success', idempotency_key: 'has spaces' })).fields).toEqual(['input.idempotency_key']);
    expect((await pay({ order, method: 'cash' })).code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await sql(app, 'select id from payments where order_id = ?', [order])).toEqual([]);
  });
});

describe('a GraphQL-only storefront', () => {
  it('logs in, saves an address, fills the cart, places the order, pays and reads the order', async () => {
    // The catalog exists; everything the shopper does is GraphQL, from registering on.
    const made = await product(app, shop, '4.25', 10);
    const username = uniqueName('gqlshop');
    const password = 'a-good-password-123';
    const user = ok(await gql(app, REGISTER, { input: { username, email: `${username}@example.com`, password } })).register;

    const { access } = ok(await gql(app, LOGIN, { input: { username: user.username, password } })).login;
    const found = ok(await gql(app, 'query($id: Int!) { product(id: $id) { id variants { id price in_stock } } }', { id: made.id })).product;
    expect(found.variants[0]).toMatchObject({ price: '4.25', in_stock: true });
    const address = ok(await gql(app, CREATE_ADDRESS, { input: HOME }, access)).createAddress;
    const cart = ok(await gql(app, 'mutation($v: Int!) { addToCart(variant: $v, quantity: 2) { total items { problem } } }', { v: found.variants[0].id }, access)).addToCart;
    expect(cart).toEqual({ total: '8.50', items: [{ problem: null }] });
    const placed = ok(await gql(app, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status payment_status total } }', { input: { shipping_address: address.id, idempotency_key: uniqueName('order') } }, access)).placeOrder;
    expect(placed).toMatchObject({ status: 'pending_payment', payment_status: 'unpaid', total: '8.50' });
    const paid = ok(await gql(app, PAY, { input: { order: placed.id, method: 'card', card_token: 'tok_success', idempotency_key: uniqueName('pay') } }, access)).initiatePayment;
    expect(paid).toMatchObject({ created: true, payment: { status: 'succeeded', amount: '8.50' } });

    const order = ok(await gql(app, ORDER, { id: placed.id }, access)).order;
    expect(order).toMatchObject({ id: placed.id, user: user.id, status: 'paid', payment_status: 'paid', total: '8.50', shipping_address: { city: 'London' }, shipment: null });
    expect(order.paid_at).toEqual(expect.any(String));
    const listed = ok(await gql(app, '{ orders(status: paid) { edges { node { id status } } } }', undefined, access)).orders;
    expect(listed.edges).toEqual([{ node: { id: placed.id, status: 'paid' } }]);
    expect(ok(await gql(app, '{ cart { item_count } }', undefined, access)).cart.item_count).toBe(0);
  });
});
