/**
 * The admin console, through the generated SDK: admins list accounts and change a customer's role;
 * admins and vendors manage the catalog (categories, products, variants). Customers are refused.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { createApiClient } from '../../generated/sdk/index';
import { bearer, category, EXAMPLE_JWT, injectedId, json, pactFor, problem, problemJson, productDetail, user, variant } from './pact';

const { eachLike, fromProviderState, nullValue, regex } = MatchersV3;
const pact = pactFor('admin-console');

describe('admin-console -> ecommerce-backend: user administration', () => {
  it('lists customers, a page at a time', async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in and customers exist')
      .uponReceiving('a request for the first page of customers')
      .withRequest('GET', '/api/users/', (req) =>
        req.headers({ Authorization: bearer('adminToken') }).query({ role: 'customer', page_size: '2', ordering: '-date_joined' }),
      )
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody({
          next: regex('^https?://.+/api/users/[?].*cursor=.+$', 'http://localhost:8000/api/users/?cursor=abc&page_size=2'),
          previous: nullValue(),
          results: eachLike(user({ role: 'customer' }), 2),
        }),
      )
      .executeTest(async (server) => {
        const admin = createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT });
        const { data } = await admin.GET('/api/users/', { params: { query: { role: 'customer', page_size: 2, ordering: '-date_joined' } } });
        expect(data?.results).toHaveLength(2);
        expect(data?.results.every((u) => u.role === 'customer')).toBe(true);
        expect(data?.next).toContain('cursor=');
      });
  });

  it("changes a customer's role to vendor", async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in and customers exist')
      .uponReceiving("a change of a customer's role to vendor")
      .withRequest('PATCH', fromProviderState('/api/users/${customerId}/', '/api/users/42/'), (req) =>
        req.headers({ ...json, Authorization: bearer('adminToken') }).jsonBody({ role: 'vendor' }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody(user({ id: fromProviderState('${customerId}', 42), role: 'vendor' })))
      .executeTest(async (server) => {
        const admin = createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT });
        const { data } = await admin.PATCH('/api/users/{id}/', { params: { path: { id: 42 } }, body: { role: 'vendor' } });
        expect(data).toMatchObject({ id: 42, role: 'vendor' });
      });
  });

  it('is refused the user list when the token is not an admin', async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in')
      .uponReceiving('a request for the user list by a customer')
      .withRequest('GET', '/api/users/', (req) => req.headers({ Authorization: bearer('accessToken') }))
      .willRespondWith(403, (res) => res.headers(problemJson).jsonBody(problem(403, 'FORBIDDEN')))
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).GET('/api/users/');
        expect(response.status).toBe(403);
        expect(error?.code).toBe('FORBIDDEN');
      });
  });
});

describe('admin-console -> ecommerce-backend: catalog management', () => {
  it('creates a top-level category', async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in')
      .uponReceiving('a category creation')
      .withRequest('POST', '/api/category/', (req) =>
        req
          .headers({ ...json, Authorization: bearer('adminToken') })
          .jsonBody({ name: 'Trail running', description: 'Shoes and gear for the trail.' }),
      )
      .willRespondWith(201, (res) =>
        res
          .headers({ ...json, Location: regex('^https?://.+/api/category/[0-9]+/$', 'http://localhost:8000/api/category/12/') })
          .jsonBody(category({ name: 'Trail running', description: 'Shoes and gear for the trail.', slug: regex('^trail-running(-[a-z0-9]+)*$', 'trail-running') })),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/category/', {
          body: { name: 'Trail running', description: 'Shoes and gear for the trail.' },
        });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ name: 'Trail running', parent: null, is_active: true });
      });
  });

  it('creates a product with a price and stock (its default variant)', async () => {
    const body = {
      name: 'Trail runner',
      category: 12,
      sku: 'TRAIL-RUNNER',
      brand: 'Stride',
      price: '89.90',
      stock: 25,
      images: ['https://cdn.example.com/trail-runner.jpg'],
    };
    await pact
      .addInteraction()
      .given('a vendor is logged in and a category exists')
      .uponReceiving('a product creation by a vendor')
      .withRequest('POST', '/api/product/', (req) =>
        req
          .headers({ ...json, Authorization: bearer('vendorToken') })
          .jsonBody({ ...body, category: injectedId('categoryId', 12), sku: fromProviderState('${sku}', 'TRAIL-RUNNER') }),
      )
      .willRespondWith(201, (res) =>
        res.headers({ ...json, Location: regex('^https?://.+/api/product/[0-9]+/$', 'http://localhost:8000/api/product/7/') }).jsonBody(
          productDetail({
            name: 'Trail runner',
            category: injectedId('categoryId', 12),
            vendor: injectedId('vendorId', 5),
            sku: fromProviderState('${sku}', 'TRAIL-RUNNER'),
            price: '89.90',
            price_range: { min: '89.90', max: '89.90' },
            stock: 25,
            variants: eachLike(variant({ sku: fromProviderState('${sku}', 'TRAIL-RUNNER'), price: '89.90', stock: 25 }), 1),
          }),
        ),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/product/', { body });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ sku: 'TRAIL-RUNNER', price: '89.90', stock: 25, category: 12 });
        expect(data?.variants[0]?.sku).toBe('TRAIL-RUNNER');
      });
  });

  it("changes a product's price and stock", async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in and a product with one variant exists')
      .uponReceiving("a change of a product's price and stock")
      .withRequest('PATCH', fromProviderState('/api/product/${productId}/', '/api/product/7/'), (req) =>
        req.headers({ ...json, Authorization: bearer('adminToken') }).jsonBody({ price: '79.90', stock: 12 }),
      )
      .willRespondWith(200, (res) =>
        res.headers(json).jsonBody(productDetail({ id: injectedId('productId', 7), price: '79.90', stock: 12, variants: eachLike(variant({ price: '79.90', stock: 12 }), 1) })),
      )
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).PATCH('/api/product/{id}/', {
          params: { path: { id: 7 } },
          body: { price: '79.90', stock: 12 },
        });
        expect(data).toMatchObject({ id: 7, price: '79.90', stock: 12 });
      });
  });

  it('withdraws a product from sale', async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in and a product with one variant exists')
      .uponReceiving('a deactivation of a product')
      .withRequest('PATCH', fromProviderState('/api/product/${productId}/', '/api/product/7/'), (req) =>
        req.headers({ ...json, Authorization: bearer('adminToken') }).jsonBody({ is_active: false }),
      )
      .willRespondWith(200, (res) => res.headers(json).jsonBody(productDetail({ id: injectedId('productId', 7), is_active: false })))
      .executeTest(async (server) => {
        const { data } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).PATCH('/api/product/{id}/', {
          params: { path: { id: 7 } },
          body: { is_active: false },
        });
        expect(data).toMatchObject({ id: 7, is_active: false });
      });
  });

  it('adds a variant to a product', async () => {
    const body = { product: 7, sku: 'TRAIL-RUNNER-43', name: 'Blue / 43', attributes: { size: '43', colour: 'blue' }, price: '94.90', stock: 3 };
    await pact
      .addInteraction()
      .given('an admin is logged in and a product with one variant exists')
      .uponReceiving('a variant creation')
      .withRequest('POST', '/api/variant/', (req) =>
        req
          .headers({ ...json, Authorization: bearer('adminToken') })
          .jsonBody({ ...body, product: injectedId('productId', 7), sku: fromProviderState('${newSku}', 'TRAIL-RUNNER-43') }),
      )
      .willRespondWith(201, (res) =>
        res.headers({ ...json, Location: regex('^https?://.+/api/variant/[0-9]+/$', 'http://localhost:8000/api/variant/42/') }).jsonBody(
          variant({
            product: injectedId('productId', 7),
            sku: fromProviderState('${newSku}', 'TRAIL-RUNNER-43'),
            name: 'Blue / 43',
            attributes: { size: '43', colour: 'blue' },
            price: '94.90',
            stock: 3,
            in_stock: true,
            is_active: true,
          }),
        ),
      )
      .executeTest(async (server) => {
        const { data, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/variant/', { body });
        expect(response.status).toBe(201);
        expect(data).toMatchObject({ product: 7, sku: 'TRAIL-RUNNER-43', price: '94.90', stock: 3 });
      });
  });

  it('deletes a product', async () => {
    await pact
      .addInteraction()
      .given('an admin is logged in and a product with one variant exists')
      .uponReceiving('a product deletion')
      .withRequest('DELETE', fromProviderState('/api/product/${productId}/', '/api/product/7/'), (req) =>
        req.headers({ Authorization: bearer('adminToken') }),
      )
      .willRespondWith(204)
      .executeTest(async (server) => {
        const { response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).DELETE('/api/product/{id}/', {
          params: { path: { id: 7 } },
        });
        expect(response.status).toBe(204);
      });
  });

  it('is refused a product creation when the token is a customer', async () => {
    await pact
      .addInteraction()
      .given('a customer is logged in')
      .uponReceiving('a product creation by a customer')
      .withRequest('POST', '/api/product/', (req) =>
        req.headers({ ...json, Authorization: bearer('accessToken') }).jsonBody({ name: 'Trail runner', category: 12, sku: 'TRAIL-RUNNER', price: '89.90' }),
      )
      .willRespondWith(403, (res) => res.headers(problemJson).jsonBody(problem(403, 'FORBIDDEN')))
      .executeTest(async (server) => {
        const { error, response } = await createApiClient({ baseUrl: server.url, token: EXAMPLE_JWT }).POST('/api/product/', {
          body: { name: 'Trail runner', category: 12, sku: 'TRAIL-RUNNER', price: '89.90' },
        });
        expect(response.status).toBe(403);
        expect(error?.code).toBe('FORBIDDEN');
      });
  });
});
