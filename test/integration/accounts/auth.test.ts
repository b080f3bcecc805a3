import { createSecretKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';
import { actor, login, registerCustomer, sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
beforeAll(async () => {
  app = await startApp({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW_SECONDS: '60' });
});
afterAll(() => app.close());

const key = createSecretKey(Buffer.from(TEST_JWT_SECRET));
const me = (token: string) => app.as(token).GET('/api/auth/me/');

describe('POST /api/auth/jwt/login/', () => {
  it('returns a refresh and an access token that opens /api/auth/me/', async () => {
    const { user, password } = await registerCustomer(app);
    const { data, response } = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password } });
    expect(response.status).toBe(200);
    expect(Object.keys(data!).sort()).toEqual(['access', 'refresh']);
    const claims = jwt.decode(data!.access, { complete: true })!;
    expect(claims.header.alg).toBe('HS256');
    expect(claims.payload).toMatchObject({ sub: String(user.id), typ: 'access', iss: 'ecommerce-backend', aud: 'ecommerce-api' });
    const ttl = (claims.payload as jwt.JwtPayload).exp! - (claims.payload as jwt.JwtPayload).iat!;
    expect(ttl).toBe(900);
    const profile = await me(data!.access);
    expect(profile.response.status).toBe(200);
    expect(profile.data).toMatchObject({ id: user.id, username: user.username });
    expect(profile.data!.last_login).not.toBeNull();
    expect(profile.response.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts the username in any letter case', async () => {
    const { user, password } = await registerCustomer(app);
    const { response } = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username.toUpperCase(), password } });
    expect(response.status).toBe(200);
  });

  it('answers one generic 401 for a wrong password, an unknown user and a deactivated account', async () => {
    const { user, password } = await registerCustomer(app);
    const gone = await actor(app);
    await gone.api.DELETE('/api/users/{id}/', { params: { path: { id: gone.user.id } } });
    const attempts = [
      { username: user.username, password: 'wrong-password' },
      { username: 'nobody-at-all', password },
      { username: gone.user.username, password: gone.password },
    ];
    const bodies = [];
    for (const body of attempts) {
      const { error, response } = await app.api.POST('/api/auth/jwt/login/', { body });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      bodies.push({ code: error!.code, detail: error!.detail, title: error!.title });
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(firstOf(bodies).code).toBe('INVALID_CREDENTIALS');
  });

  it('throttles repeated failures for one username from one address with 429 and Retry-After', async () => {
    const { user, password } = await registerCustomer(app);
    for (let i = 0; i < 3; i++) {
      const { response } = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password: 'wrong' } });
      expect(response.status).toBe(401);
    }
    const { error, response } = await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password } });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(error).toMatchObject({ code: 'LOGIN_THROTTLED', status: 429 });
    // Another username from the same address is not affected.
    const other = await registerCustomer(app);
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: other.user.username, password: other.password } })).response.status).toBe(200);
  });

  it('forgets earlier failures after a successful login', async () => {
    const { user, password } = await registerCustomer(app);
    for (let i = 0; i < 2; i++) await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password: 'wrong' } });
    await login(app, user.username, password);
    for (let i = 0; i < 2; i++) await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password: 'wrong' } });
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: user.username, password } })).response.status).toBe(200);
  });

  it.each([
    ['an empty body', {}],
    ['an unknown field', { username: 'a', password: 'b', remember: true }],
    ['a wrong type', { username: ['a'], password: 'b' }],
  ])('answers 400 for %s', async (_c, body) => {
    const res = await fetch(`${app.baseUrl}/api/auth/jwt/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('VALIDATION_ERROR');
  });
});

describe('access tokens', () => {
  let token: string;
  let userId: number;
  beforeAll(async () => {
    const a = await actor(app);
    token = a.tokens.access;
    userId = a.user.id;
  });
  const forge = (payload: { exp?: number; [claim: string]: unknown }, options: jwt.SignOptions = {}, secret: jwt.Secret = key) =>
    jwt.sign({ typ: 'access', role: 'admin', ver: 0, ...payload }, secret, {
      algorithm: 'HS256',
      subject: String(userId),
      issuer: 'ecommerce-backend',
      audience: 'ecommerce-api',
      ...(payload.exp === undefined ? { expiresIn: 900 } : {}),
      ...options,
    });

  it('a forged token with the right key and claims is accepted (sanity check of the forger)', async () => {
    expect((await me(forge({}))).response.status).toBe(200);
  });

  it('answers 401 NOT_AUTHENTICATED without a token, with WWW-Authenticate', async () => {
    const { error, response } = await app.api.GET('/api/auth/me/');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(error!.code).toBe('NOT_AUTHENTICATED');
  });

  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    const expired = forge({ iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 10 });
    const { error, response } = await me(expired);
    expect(response.status).toBe(401);
    expect(error!.code).toBe('TOKEN_EXPIRED');
  });

  it.each([
    ['a tampered payload', () => {
      const [h, , s] = token.split('.');
      const p = Buffer.from(JSON.stringify({ ...(jwt.decode(token) as object), role: 'admin' })).toString('base64url');
      return `${h}.${p}.${s}`;
    }],
    ['a tampered signature', () => token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')],
    ['another algorithm (HS512 with the same secret)', () => forge({}, { algorithm: 'HS512' })],
    ['alg none', () => {
      const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      return `${h}.${token.split('.')[1]}.`;
    }],
    ['another secret', () => forge({}, {}, 'another-secret-that-is-long-enough-0123456789')],
    ['another issuer', () => forge({}, { issuer: 'someone-else' })],
    ['another audience', () => forge({}, { audience: 'another-api' })],
    ['a refresh-typed token', () => forge({ typ: 'refresh', fam: randomUUID() })],
    ['garbage', () => 'not.a.jwt'],
  ])('answers 401 INVALID_TOKEN for %s', async (_c, make) => {
    const { error, response } = await me(make());
    expect(response.status).toBe(401);
    expect(error!.code).toBe('INVALID_TOKEN');
  });

  it('never accepts a refresh token as an access token', async () => {
    const a = await actor(app);
    const { error, response } = await me(a.tokens.refresh);
    expect(response.status).toBe(401);
    expect(error!.code).toBe('INVALID_TOKEN');
  });

  it('answers 401 for a non-Bearer scheme', async () => {
    const res = await fetch(`${app.baseUrl}/api/auth/me/`, { headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect(res.status).toBe(401);
  });

  it('takes the role from the account, not from the token', async () => {
    // The forged token claims admin; the account is a customer.
    const { response } = await app.as(forge({ role: 'admin' })).GET('/api/users/');
    expect(response.status).toBe(403);
  });
});

describe('POST /api/auth/jwt/refresh/', () => {
  it('rotates: a new pair each time, and the old refresh token stops working', async () => {
    const a = await actor(app);
    const first = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } });
    expect(first.response.status).toBe(200);
    expect(first.data!.refresh).not.toBe(a.tokens.refresh);
    expect((await me(first.data!.access)).response.status).toBe(200);
    const second = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: first.data!.refresh } });
    expect(second.response.status).toBe(200);
    const rows = await sql<{ token_hash: string }>(app, 'select token_hash from refresh_tokens where user_id = ?', [a.user.id]);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect([a.tokens.refresh, first.data!.refresh, second.data!.refresh]).not.toContain(row.token_hash);
  });

  it('detects reuse: presenting a used refresh token revokes the whole family', async () => {
    const a = await actor(app);
    const rotated = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } });
    const reuse = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } });
    expect(reuse.response.status).toBe(401);
    expect(reuse.error!.code).toBe('REFRESH_TOKEN_REUSED');
    // The legitimate-looking descendant is revoked too.
    const descendant = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: rotated.data!.refresh } });
    expect(descendant.response.status).toBe(401);
    // Another session (another login) of the same user is untouched.
    const other = await login(app, a.user.username, a.password);
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: other.refresh } })).response.status).toBe(200);
  });

  it('lets exactly one of two concurrent uses of one refresh token win', async () => {
    const a = await actor(app);
    const results = await Promise.all([1, 2].map(() => app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([200, 401]);
  });

  it('refuses an access token as a refresh token, and garbage', async () => {
    const a = await actor(app);
    for (const refresh of [a.tokens.access, 'garbage', a.tokens.refresh + 'x']) {
      const { error, response } = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh } });
      expect(response.status).toBe(401);
      expect(error!.code).toBe('INVALID_REFRESH_TOKEN');
    }
  });

  it('refuses an expired refresh token', async () => {
    const a = await actor(app);
    const claims = jwt.decode(a.tokens.refresh) as jwt.JwtPayload;
    const expired = jwt.sign({ typ: 'refresh', fam: claims.fam, iat: claims.iat! - 10_000, exp: claims.iat! - 10 }, key, {
      algorithm: 'HS256', subject: claims.sub, issuer: 'ecommerce-backend', audience: 'ecommerce-api', jwtid: claims.jti,
    });
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: expired } })).response.status).toBe(401);
  });

  it('refuses the refresh token of a deactivated account', async () => {
    const a = await actor(app);
    await a.api.DELETE('/api/users/{id}/', { params: { path: { id: a.user.id } } });
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } })).response.status).toBe(401);
  });
});

describe('POST /api/auth/logout/', () => {
  it('revokes the session family and is harmless when repeated', async () => {
    const a = await actor(app);
    const rotated = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } });
    expect((await app.api.POST('/api/auth/logout/', { body: { refresh: rotated.data!.refresh } })).response.status).toBe(204);
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: rotated.data!.refresh } })).response.status).toBe(401);
    expect((await app.api.POST('/api/auth/logout/', { body: { refresh: rotated.data!.refresh } })).response.status).toBe(204);
  });

  it('answers 401 for a token it cannot verify', async () => {
    const { error, response } = await app.api.POST('/api/auth/logout/', { body: { refresh: 'forged' } });
    expect(response.status).toBe(401);
    expect(error!.code).toBe('INVALID_REFRESH_TOKEN');
  });
});

describe('POST /api/auth/password/', () => {
  it('changes the password, signs out every session, and hands back a fresh pair', async () => {
    const a = await actor(app);
    const otherSession = await login(app, a.user.username, a.password);
    const { data, response } = await a.api.POST('/api/auth/password/', {
      body: { current_password: a.password, new_password: 'a-brand-new-password' },
    });
    expect(response.status).toBe(200);
    // Old access and refresh tokens, of every session, stop working.
    expect((await me(a.tokens.access)).response.status).toBe(401);
    expect((await me(otherSession.access)).response.status).toBe(401);
    for (const refresh of [a.tokens.refresh, otherSession.refresh]) {
      expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh } })).response.status).toBe(401);
    }
    // The new pair works; the old password does not, the new one does.
    expect((await me(data!.access)).response.status).toBe(200);
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: data!.refresh } })).response.status).toBe(200);
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: a.user.username, password: a.password } })).response.status).toBe(401);
    await login(app, a.user.username, 'a-brand-new-password');
  });

  it('answers 422 WRONG_PASSWORD when the current password is wrong, and changes nothing', async () => {
    const a = await actor(app);
    const { error, response } = await a.api.POST('/api/auth/password/', { body: { current_password: 'nope', new_password: 'whatever-123' } });
    expect(response.status).toBe(422);
    expect(error!.code).toBe('WRONG_PASSWORD');
    expect((await me(a.tokens.access)).response.status).toBe(200);
    await login(app, a.user.username, a.password);
  });

  it('throttles repeated wrong current passwords with 429 LOGIN_THROTTLED and Retry-After, even for the right one, and changes nothing', async () => {
    const a = await actor(app);
    for (let i = 0; i < app.config.auth.loginMaxFailures; i++) {
      const { error } = await a.api.POST('/api/auth/password/', { body: { current_password: 'nope', new_password: 'whatever-123' } });
      expect(error).toMatchObject({ status: 422, code: 'WRONG_PASSWORD' });
    }
    const { error, response } = await a.api.POST('/api/auth/password/', { body: { current_password: a.password, new_password: 'whatever-123' } });
    expect(error).toMatchObject({ status: 429, code: 'LOGIN_THROTTLED' });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await me(a.tokens.access)).response.status).toBe(200);
  });

  it('answers 422 PASSWORD_UNCHANGED when the new password is the current one', async () => {
    const a = await actor(app);
    const { error } = await a.api.POST('/api/auth/password/', { body: { current_password: a.password, new_password: a.password } });
    expect(error!.code).toBe('PASSWORD_UNCHANGED');
  });

  it('answers 400 for a too short new password and 401 without a token', async () => {
    const a = await actor(app);
    expect((await a.api.POST('/api/auth/password/', { body: { current_password: a.password, new_password: 'short' } })).response.status).toBe(400);
    expect((await app.api.POST('/api/auth/password/', { body: { current_password: a.password, new_password: 'long-enough-1' } })).response.status).toBe(401);
  });
});
