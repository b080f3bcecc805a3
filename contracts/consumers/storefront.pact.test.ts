/**
 * The storefront (the shop's web front end): customers sign up and in (register, log in and a wrong
 * password, refresh the token pair, read the signed-in customer), recover their account (ask for a
 * password reset, set a new password with the mailed token or be told it is invalid, verify their
 * email), browse and filter the catalog, read a product page, fill their cart, see the ways to ship
 * to their address and what shipping and tax add (or that nothing ships there), place an order with
 * a shipping method, pay for it, track its shipment and ask to return part of it; a guest starts a
 * cart without an account and checks it out with an email and an address. It talks to the
 * API through the generated SDK (generated/sdk), as the real front end does.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { createApiClient } from '../../generated/sdk/index';
import {
  bearer,
  cart,
  EXAMPLE_JWT,
  injectedId,
  injectedToken,
  json,
  money,
  order,
  pactFor,
  payment,
  problem,
  problemJson,
  productDetail,
  productSummary,
  shipment,
  tokenPair,
  user,
} from './pact';

const { boolean, eachLike, fromProviderState, integer, nullValue, regex, string } = MatchersV3;
const pact = pactFor('storefront');

describe('storefront -> ecommerce-backend: accounts', () => {
  it('registers a customer', async () => {
    await pact
      .addInteraction()
      .given('no account uses the username "grace"')
      .uponReceiving('a registration')
      .withRequest('POST', '/api/auth/register/', (req) =>
        req.headers(json).jsonBody({ username: 'grace', email: 'grace@example.com', password: 'a-good-password-123', first_name: 'Grace' }),
      )
      .willRespondWith(201, (res) =>
        res
          .headers({ ...json, Location: MatchersV3.regex('^https?://.+/api/users/[0-9]+/$', 'http://localhost:8000/api/users/42/') })
          .jsonBody(user({ username: 'grace', email: 'grace@example.com', first_name: 'Grace', last_name: '', role: 'customer', is_active: true })),
      )
      .executeTest(async (server) => {
        const api = createApiClient({ baseUrl: server.url });
        const { data, response } = await api.POST('/api/auth/register/', {
          body: { username: 'grace', email: 'grace@example.com', password: 'a-good-password-123', first_name: 'Grace' },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ username: 'grace', role: 'customer' });
      });
  });

  it('logs a customer in', async () => {
    await pact
      .addInteraction()
      .given('a customer exists')
      .uponReceiving('a login with the right password')
      .withRequest('POST', '/api/auth/jwt/login/', (req) =>
        req.headers(json).jsonBody({
          username: fromProviderState('${username}', 'ada'),
          password: fromProviderState('${password}', 'correct-horse-battery'),
        }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody(tokenPair()))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/jwt/login/', {
          body: { username: 'ada', password: 'correct-horse-battery' },
        });
        expect(data?.access).toBe(EXAMPLE_JWT);
        expect(data?.refresh).toBe(EXAMPLE_JWT);
      });
  });

  it('is told when the password is wrong', async () => {
    await pact
      .addInteraction()
      .given('a customer exists')
      .uponReceiving('a login with a wrong password')
      .withRequest('POST', '/api/auth/jwt/login/', (req) =>
        req.headers(json).jsonBody({ username: fromProviderState('${username}', 'ada'), password: 'not-the-password' }),
      )
      .willRespondWith(401, (res) => res.headers(problemJson).jsonBody(problem(401, 'INVALID_CREDENTIALS')))
      .executeTest(async (server) => {
        const { data, error, response } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/jwt/login/', {
          body: { username: 'ada', password: 'not-the-password' },
        });
        expect(response.status).toBe(401);
        expect(data).toBeUndefined();
        expect(error?.code).toBe('INVALID_CREDENTIALS');
      });
  });

  it('refreshes the token pair', async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in')
      .uponReceiving('a token refresh')
      .withRequest('POST', '/api/auth/jwt/refresh/', (req) => req.headers(json).jsonBody({ refresh: injectedToken('refreshToken') }))
      .willRespondWith(200, (res) => res.headers(json).jsonBody(tokenPair()))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/jwt/refresh/', {
          body: { refresh: EXAMPLE_JWT },
        });
        expect(data).toEqual({ access: EXAMPLE_JWT, refresh: EXAMPLE_JWT });
      });
  });

  it("reads the signed-in customer's profile", async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in')
      .uponReceiving('a request for the current user')
      .withRequest('GET', '/api/auth/me/', (req) => req.headers({ Authorization: bearer('accessToken') }))
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody(user({ id: fromProviderState('${userId}', 42), username: string('ada'), role: 'customer', phone: string('+44 20 7946 0958') })),
      )
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/auth/me/');
        expect(data).toMatchObject({ id: 42, role: 'customer', phone: '+44 20 7946 0958' });
      });
  });

  it('is refused the profile without a token', async () => {
    await pact
      .addInteraction()
      .uponReceiving('a request for the current user without a token')
      .withRequest('GET', '/api/auth/me/')
      .willRespondWith(401, (res) => res.headers(problemJson).jsonBody({ ...problem(401, 'NOT_AUTHENTICATED'), status: integer(401) }))
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url }).GET('/api/auth/me/');
        expect(response.status).toBe(401);
        expect(error?.code).toBe('NOT_AUTHENTICATED');
      });
  });
});

describe('storefront -> ecommerce-backend: account recovery', () => {
  const RESET_ACCEPTED = 'If an account uses that email, a password reset message is on its way.';
  const TOKEN = 'q3ZQ2c1pX9nY0bT5Lr8uVw6sKdFh4gJmA7eNoPzCiRk';

  it('asks for a password reset mail', async () => {
    await pact
      .addInteraction()
      .given('a customer exists')
      .uponReceiving('a password reset request')
      .withRequest('POST', '/api/auth/password/reset/', (req) => req.headers(json).jsonBody({ email: fromProviderState('${email}', 'ada@example.com') }))
      .willRespondWith(202, (res) => res.headers(json).jsonBody({ detail: string(RESET_ACCEPTED) }))
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/password/reset/', { body: { email: 'ada@example.com' } });
        expect(response.status).toBe(202);
        expect(data?.detail).toBe(RESET_ACCEPTED);
      });
  });

  it('sets a new password with the mailed token', async () => {
    await pact
      .addInteraction()
      .given('a customer asked for a password reset')
      .uponReceiving('a password reset confirmation')
      .withRequest('POST', '/api/auth/password/reset/confirm/', (req) =>
        req.headers(json).jsonBody({ token: fromProviderState('${resetToken}', TOKEN), new_password: 'staple-horse-correct-battery' }),
      )
      .willRespondWith(204)
      .executeTest(async (server) => {
        const { response } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/password/reset/confirm/', {
          body: { token: TOKEN, new_password: 'staple-horse-correct-battery' },
        });
        expect(response.status).toBe(204);
      });
  });

  it('is told when the reset token is invalid, used or expired', async () => {
    await pact
      .addInteraction()
      .uponReceiving('a password reset confirmation with an unknown token')
      .withRequest('POST', '/api/auth/password/reset/confirm/', (req) =>
        req.headers(json).jsonBody({ token: 'not-a-token-anyone-was-mailed', new_password: 'staple-horse-correct-battery' }),
      )
      .willRespondWith(400, (res) => res.headers(problemJson).jsonBody(problem(400, 'INVALID_RESET_TOKEN')))
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/password/reset/confirm/', {
          body: { token: 'not-a-token-anyone-was-mailed', new_password: 'staple-horse-correct-battery' },
        });
        expect(response.status).toBe(400);
        expect(error?.code).toBe('INVALID_RESET_TOKEN');
      });
  });

  it('verifies the email with the mailed token', async () => {
    await pact
      .addInteraction()
      .given('a customer has just registered')
      .uponReceiving('an email verification')
      .withRequest('POST', '/api/auth/email/verify/', (req) => req.headers(json).jsonBody({ token: fromProviderState('${verificationToken}', TOKEN) }))
      .willRespondWith(204)
      .executeTest(async (server) => {
        const { response } = await createApiClient({ baseUrl: server.url }).POST('/api/auth/email/verify/', { body: { token: TOKEN } });
        expect(response.status).toBe(204);
      });
  });
});

describe('storefront -> ecommerce-backend: catalog', () => {
  it('browses a category filtered by price and availability, cheapest first, a page at a time', async () => {
    await pact
      .addInteraction()
      .given('products in a category, some in stock between 10.00 and 50.00')
      .uponReceiving('a filtered, price-ordered first page of a category')
      .withRequest('GET', '/api/product/', (req) =>
        req.query({
          category: fromProviderState('${categoryId}', '12'),
          min_price: '10.00',
          max_price: '50.00',
          in_stock: 'true',
          ordering: 'price',
          page_size: '2',
        }),
      )
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody({
          next: regex('^https?://.+/api/product/[?].*cursor=.+$', 'http://localhost:8000/api/product/?cursor=abc&page_size=2'),
          previous: nullValue(),
          results: eachLike(productSummary({ category: injectedId('categoryId', 12), in_stock: true }), 2),
        }),
      )
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url }).GET('/api/product/', {
          params: { query: { category: '12', min_price: '10.00', max_price: '50.00', in_stock: true, ordering: 'price', page_size: 2 } },
        });
        expect(data?.results).toHaveLength(2);
        expect(data?.results.every((p) => p.in_stock && p.category === 12)).toBe(true);
        expect(data?.next).toContain('cursor=');
      });
  });

  it('reads a product page: variants, price range and breadcrumbs', async () => {
    await pact
      .addInteraction()
      .given('a product with variants in a subcategory')
      .uponReceiving('a request for a product')
      .withRequest('GET', fromProviderState('/api/product/${productId}/', '/api/product/7/'))
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody(
          productDetail({
            id: injectedId('productId', 7),
            breadcrumbs: eachLike({ id: integer(3), name: string('Shoes'), slug: string('shoes') }, 2),
            variants: eachLike(
              {
                id: integer(41),
                sku: string('SHOE-RED-42'),
                name: string('Red / 42'),
                attributes: { size: string('42') },
                price: money('89.90'),
                stock: integer(5),
                in_stock: MatchersV3.boolean(true),
              },
              2,
            ),
          }),
        ),
      )
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url }).GET('/api/product/{id}/', { params: { path: { id: 7 } } });
        expect(data?.id).toBe(7);
        expect(data?.breadcrumbs).toHaveLength(2);
        expect(data?.variants).toHaveLength(2);
        expect(Number(data?.price_range.min)).toBeLessThanOrEqual(Number(data?.price_range.max));
      });
  });

  it('is told when a product does not exist', async () => {
    await pact
      .addInteraction()
      .given('no product has the id 999999')
      .uponReceiving('a request for a missing product')
      .withRequest('GET', '/api/product/999999/')
      .willRespondWith(404, (res) => res.headers(problemJson).jsonBody(problem(404, 'NOT_FOUND')))
      .executeTest(async (server) => {
        const { data, error, response } = await createApiClient({ baseUrl: server.url }).GET('/api/product/{id}/', {
          params: { path: { id: 999999 } },
        });
        expect(response.status).toBe(404);
        expect(data).toBeUndefined();
        expect(error?.code).toBe('NOT_FOUND');
      });
  });
});

describe('storefront -> ecommerce-backend: cart', () => {
  it('reads the cart', async () => {
    await pact
      .addInteraction()
      .given('a customer has a product in their cart')
      .uponReceiving('a request for the cart')
      .withRequest('GET', '/api/cart/', (req) => req.headers({ Authorization: bearer('accessToken') }))
      .willRespondWith(200, (res) => res.headers(json).jsonBody(cart()))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/cart/');
        expect(data?.items[0]).toMatchObject({ quantity: 2, line_total: '179.80', problem: null });
        expect(data?.total).toBe('179.80');
      });
  });

  it('adds a variant to the cart', async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in and a variant is in stock')
      .uponReceiving('an add to cart')
      .withRequest('POST', '/api/cart/add/', (req) =>
        req.headers({ ...json, Authorization: bearer('accessToken') }).jsonBody({ variant: injectedId('variantId', 41), quantity: 2 }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody(cart()))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/cart/add/', {
          body: { variant: 41, quantity: 2 },
        });
        expect(data?.item_count).toBe(2);
        expect(data?.items[0]?.variant.id).toBe(41);
      });
  });

  it('is refused more units than are in stock', async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in and a variant has 2 units left')
      .uponReceiving('an add to cart of more units than are in stock')
      .withRequest('POST', '/api/cart/add/', (req) =>
        req.headers({ ...json, Authorization: bearer('accessToken') }).jsonBody({ variant: injectedId('variantId', 41), quantity: 5 }),
      )
      .willRespondWith(409, (res) =>
        res.headers(problemJson).jsonBody({ ...problem(409, 'INSUFFICIENT_STOCK'), available: integer(2), variant: injectedId('variantId', 41) }),
      )
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/cart/add/', {
          body: { variant: 41, quantity: 5 },
        });
        expect(response.status).toBe(409);
        expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 2, variant: 41 });
      });
  });
});

describe('storefront -> ecommerce-backend: guest checkout', () => {
  const GUEST_TOKEN = '2-7wAAAAAbGVhcm5pbmctZ3Vlc3QtY2FydC10b2tlbg';
  const cartToken = () => fromProviderState('${cartToken}', GUEST_TOKEN);

  it('starts a guest cart', async () => {
    await pact
      .addInteraction()
      .given('the shop is open to guests')
      .uponReceiving('a guest cart creation')
      .withRequest('POST', '/api/cart/guest/')
      .willRespondWith(201, (res) =>
        res.headers(json).jsonBody({
          cart_token: regex('^[A-Za-z0-9_-]{43}$', GUEST_TOKEN),
          cart: cart({ items: [], item_count: integer(0), subtotal: money('0.00'), total: money('0.00') }),
        }),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url }).POST('/api/cart/guest/');
        expect(response.status).toBe(201);
        expect(data?.cart_token).toHaveLength(43);
        expect(data?.cart.items).toEqual([]);
      });
  });

  it("places a guest's order with an email and an address", async () => {
    const IDEMPOTENCY_KEY = 'guest-checkout-7f1c0e8e-2a57-4a57-9f0a-6f3f4b1a9c21';
    const address = { recipient_name: 'Grace Hopper', line1: '1 Navy Way', city: 'London', postal_code: 'SW1A 2HB', country: 'GB' };
    await pact
      .addInteraction()
      .given('a guest has a cart ready for checkout, to Great Britain')
      .uponReceiving('a guest order placement with an idempotency key')
      .withRequest('POST', '/api/order/guest/', (req) =>
        req.headers({ ...json, 'X-Cart-Token': cartToken(), 'Idempotency-Key': IDEMPOTENCY_KEY }).jsonBody({ email: 'grace@example.com', shipping_address: address }),
      )
      .willRespondWith(201, (res) =>
        res.headers({ ...json, Location: regex('^https?://.+/api/order/[0-9]+/$', 'http://localhost:8000/api/order/13/') }).jsonBody(
          order({
            user: nullValue(),
            email: string('grace@example.com'),
            shipping_address: { recipient_name: string('Grace Hopper'), line1: string('1 Navy Way'), city: string('London'), postal_code: string('SW1A 2HB'), country: regex('^[A-Z]{2}$', 'GB') },
            shipping: money('4.90'),
            tax: money('36.94'),
            total: money('221.64'),
          }),
        ),
      )
      .executeTest(async (server) => {
        const api = createApiClient({ baseUrl: server.url, headers: { 'X-Cart-Token': GUEST_TOKEN } });
        const { data, response } = await api.POST('/api/order/guest/', {
          params: { header: { 'Idempotency-Key': IDEMPOTENCY_KEY } },
          body: { email: 'grace@example.com', shipping_address: address },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ user: null, email: 'grace@example.com', status: 'pending_payment', total: '221.64' });
      });
  });
});

describe('storefront -> ecommerce-backend: checkout', () => {
  const IDEMPOTENCY_KEY = 'checkout-7f1c0e8e-2a57-4a57-9f0a-6f3f4b1a9c21';

  it('places an order from the cart', async () => {
    await pact
      .addInteraction()
      .given('a customer has a cart ready for checkout and a shipping address')
      .uponReceiving('an order placement with an idempotency key')
      .withRequest('POST', '/api/order/', (req) =>
        req
          .headers({ ...json, Authorization: bearer('accessToken'), 'Idempotency-Key': IDEMPOTENCY_KEY })
          .jsonBody({ shipping_address: injectedId('addressId', 3) }),
      )
      .willRespondWith(201, (res) =>
        res.headers({ ...json, Location: regex('^https?://.+/api/order/[0-9]+/$', 'http://localhost:8000/api/order/12/') }).jsonBody(order()),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/order/', {
          params: { header: { 'Idempotency-Key': IDEMPOTENCY_KEY } },
          body: { shipping_address: 3 },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ status: 'pending_payment', payment_status: 'unpaid', total: '179.80' });
        expect(data?.items).toHaveLength(1);
      });
  });

  const BRITAIN = 'a customer has a cart and an address in Great Britain, where the shop ships by two methods and charges VAT';
  const shippingOption = (name: string, price: string) => ({
    id: integer(2),
    name: string(name),
    carrier: string('Royal Mail'),
    delivery_days_min: integer(2),
    delivery_days_max: integer(4),
    price: money(price),
  });

  it('lists the ways to ship to an address, with their prices', async () => {
    await pact
      .addInteraction()
      .given(BRITAIN)
      .uponReceiving("a request for the shipping options to the customer's address")
      .withRequest('GET', '/api/cart/shipping-options/', (req) =>
        req.headers({ Authorization: bearer('accessToken') }).query({ address: fromProviderState('${addressId}', '3') }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody({ address: injectedId('addressId', 3), options: eachLike(shippingOption('Standard', '4.90'), 2) }))
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/cart/shipping-options/', {
          params: { query: { address: 3 } },
        });
        expect(response.status).toBe(200);
        expect(data?.options[0]).toMatchObject({ name: 'Standard', price: '4.90' });
      });
  });

  it('shows the cart with the shipping and tax of an address and a method', async () => {
    await pact
      .addInteraction()
      .given(BRITAIN)
      .uponReceiving('a request for the cart priced for an address and a shipping method')
      .withRequest('GET', '/api/cart/', (req) =>
        req.headers({ Authorization: bearer('accessToken') }).query({ address: fromProviderState('${addressId}', '3'), shipping_method: fromProviderState('${methodId}', '2') }),
      )
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody(
          cart({
            shipping: money('4.90'),
            tax: money('36.94'),
            total: money('221.64'),
            taxes_included: boolean(false),
            shipping_address: injectedId('addressId', 3),
            shipping_method: { id: injectedId('methodId', 2), name: string('Standard'), price: money('4.90') },
          }),
        ),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/cart/', {
          params: { query: { address: 3, shipping_method: 2 } },
        });
        expect(response.status).toBe(200);
        expect(data).toMatchObject({ shipping: '4.90', tax: '36.94', total: '221.64', shipping_method: { id: 2 } });
      });
  });

  it('places an order with the shipping method chosen', async () => {
    await pact
      .addInteraction()
      .given(BRITAIN)
      .uponReceiving('an order placement with a shipping method')
      .withRequest('POST', '/api/order/', (req) =>
        req.headers({ ...json, Authorization: bearer('accessToken') }).jsonBody({ shipping_address: injectedId('addressId', 3), shipping_method: injectedId('methodId', 2) }),
      )
      .willRespondWith(201, (res) =>
        res.headers({ ...json, Location: regex('^https?://.+/api/order/[0-9]+/$', 'http://localhost:8000/api/order/12/') }).jsonBody(
          order({
            shipping_method: { id: injectedId('methodId', 2), name: string('Standard'), carrier: string('Royal Mail') },
            shipping: money('4.90'),
            tax: money('36.94'),
            total: money('221.64'),
            taxes_included: boolean(false),
          }),
        ),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/order/', {
          body: { shipping_address: 3, shipping_method: 2 },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ shipping: '4.90', tax: '36.94', total: '221.64', shipping_method: { name: 'Standard' } });
      });
  });

  it('is told when nothing ships to the address', async () => {
    await pact
      .addInteraction()
      .given('a customer has a cart and an address in a country the shop does not ship to')
      .uponReceiving('an order placement to an address nothing ships to')
      .withRequest('POST', '/api/order/', (req) => req.headers({ ...json, Authorization: bearer('accessToken') }).jsonBody({ shipping_address: injectedId('addressId', 3) }))
      .willRespondWith(422, (res) => res.headers(problemJson).jsonBody(problem(422, 'NO_SHIPPING_METHOD')))
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/order/', { body: { shipping_address: 3 } });
        expect(response.status).toBe(422);
        expect(error).toMatchObject({ code: 'NO_SHIPPING_METHOD' });
      });
  });

  it('asks to return one unit of a delivered order', async () => {
    await pact
      .addInteraction()
      .given('a customer has received a delivered order of two units')
      .uponReceiving('a return request for one unit of a line')
      .withRequest('POST', fromProviderState('/api/order/${orderId}/returns/', '/api/order/12/returns/'), (req) =>
        req
          .headers({ ...json, Authorization: bearer('accessToken') })
          .jsonBody({ items: [{ order_item: injectedId('orderItemId', 30), quantity: 1 }], reason: 'Too small' }),
      )
      .willRespondWith(201, (res) =>
        res.headers(json).jsonBody({
          id: integer(4),
          order: injectedId('orderId', 12),
          status: 'requested',
          reason: 'Too small',
          items: eachLike({ order_item: injectedId('orderItemId', 30), quantity: 1, amount: money('89.90') }),
          amount: money('89.90'),
          refund: nullValue(),
        }),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/order/{id}/returns/', {
          params: { path: { id: 12 } },
          body: { items: [{ order_item: 30, quantity: 1 }], reason: 'Too small' },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ status: 'requested', amount: '89.90', refund: null });
      });
  });

  it('pays for the order with a card', async () => {
    await pact
      .addInteraction()
      .given('a customer has placed an order awaiting payment')
      .uponReceiving('a card payment with a token that succeeds')
      .withRequest('POST', '/api/payment/initiate/', (req) =>
        req
          .headers({ ...json, Authorization: bearer('accessToken') })
          .jsonBody({ order: injectedId('orderId', 12), method: 'card', card_token: 'tok_success' }),
      )
      .willRespondWith(201, (res) => res.headers(json).jsonBody(payment({ order: injectedId('orderId', 12), status: 'succeeded' })))
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/payment/initiate/', {
          body: { order: 12, method: 'card', card_token: 'tok_success' },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ order: 12, status: 'succeeded' });
      });
  });

  it("reads the order's payment status", async () => {
    await pact
      .addInteraction()
      .given('a customer has paid for an order')
      .uponReceiving("a request for an order's payment status")
      .withRequest('GET', fromProviderState('/api/payment/${orderId}/status/', '/api/payment/12/status/'), (req) =>
        req.headers({ Authorization: bearer('accessToken') }),
      )
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody({
          order: injectedId('orderId', 12),
          order_status: 'paid',
          payment_status: 'paid',
          amount_due: money('0.00'),
          currency: regex('^[A-Z]{3}$', 'USD'),
          payments: eachLike(payment({ order: injectedId('orderId', 12) })),
        }),
      )
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/payment/{order_id}/status/', {
          params: { path: { order_id: 12 } },
        });
        expect(data).toMatchObject({ order: 12, payment_status: 'paid', amount_due: '0.00' });
        expect(data?.payments[0]?.status).toBe('succeeded');
      });
  });

  it("tracks the order's shipment", async () => {
    await pact
      .addInteraction()
      .given("a customer's order has shipped")
      .uponReceiving("a request for an order's shipment")
      .withRequest('GET', fromProviderState('/api/shipments/${orderId}/', '/api/shipments/12/'), (req) =>
        req.headers({ Authorization: bearer('accessToken') }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody(shipment({ order: injectedId('orderId', 12), status: 'shipped' })))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/shipments/{order_id}/', {
          params: { path: { order_id: 12 } },
        });
        expect(data).toMatchObject({ order: 12, status: 'shipped', carrier: 'DHL' });
        expect(data?.tracking_number).toBeTruthy();
      });
  });
});
