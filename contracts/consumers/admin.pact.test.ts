/**
 * The admin console lists accounts and changes a customer's role, through the generated SDK.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { createApiClient } from '../../generated/sdk/index';
import { bearer, EXAMPLE_JWT, json, pactFor, problem, problemJson, user } from './pact';

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
