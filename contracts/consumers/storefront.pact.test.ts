/**
 * The storefront (the shop's web front end) signs customers up and in: register, log in (and a
 * wrong password), refresh the token pair, read the signed-in customer. It talks to the API through
 * the generated SDK (generated/sdk), as the real front end does.
 */
import { MatchersV3 } from '@pact-foundation/pact';
import { createApiClient } from '../../generated/sdk/index';
import { bearer, EXAMPLE_JWT, injectedToken, json, pactFor, problem, problemJson, tokenPair, user } from './pact';

const { fromProviderState, string, integer } = MatchersV3;
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
