import { startApp, type TestApp } from '../../support/app';
import { registerCustomer, uniqueName } from '../../support/factories';

/**
 * Issue 12, password spraying: one password tried against many usernames from one address.
 * Failures are also counted per address across usernames (each username once per window,
 * LOGIN_ADDRESS_MAX_USERNAMES, default 10 in 15 minutes); past that, every login from the address
 * is 429 LOGIN_THROTTLED with Retry-After, while other addresses log in as usual.
 */
let app: TestApp;
beforeAll(async () => {
  // Behind one trusted proxy, so each test can speak from its own client address.
  app = await startApp({ TRUST_PROXY: '1' });
});
afterAll(() => app.close());

const SPRAYED = 'Summer2026!';
const login = (address: string, username: string, password: string) =>
  app.api.POST('/api/auth/jwt/login/', { headers: { 'X-Forwarded-For': address }, body: { username, password } });

describe('password spraying from one address', () => {
  it('12 usernames with one password: the 11th and later are 429 LOGIN_THROTTLED, also for a right password', async () => {
    const address = '198.51.100.1';
    const real = await Promise.all(Array.from({ length: 4 }, () => registerCustomer(app)));
    const usernames = [...real.map((r) => r.user.username), ...Array.from({ length: 8 }, () => uniqueName('nobody'))];
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof login>> | undefined;
    for (const username of usernames) {
      last = await login(address, username, SPRAYED);
      statuses.push(last.response.status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    expect(last!.error).toMatchObject({ status: 429, code: 'LOGIN_THROTTLED' });
    const retryAfter = Number(last!.response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // While the address is throttled, even the right password of an account is refused from it...
    const owner = real[0]!;
    expect((await login(address, owner.user.username, owner.password)).response.status).toBe(429);
    // ...but the account logs in from any other address.
    expect((await login('198.51.100.2', owner.user.username, owner.password)).response.status).toBe(200);
  });

  it('counts a username once: one user mistyping several times is not spraying', async () => {
    const address = '198.51.100.10';
    const { user } = await registerCustomer(app);
    for (let i = 0; i < 4; i++) expect((await login(address, user.username, `typo-${i}`)).response.status).toBe(401);
    // 4 failures of one username and 8 of others: 9 usernames, 12 failures; still below the limit.
    for (let i = 0; i < 8; i++) expect((await login(address, uniqueName('nobody'), SPRAYED)).response.status).toBe(401);
    expect((await login(address, uniqueName('nobody'), SPRAYED)).response.status).toBe(401); // the 10th username
    expect((await login(address, uniqueName('nobody'), SPRAYED)).response.status).toBe(429);
  });

  it('a successful login from the address does not reset its count', async () => {
    const address = '198.51.100.20';
    const own = await registerCustomer(app);
    for (let i = 0; i < 9; i++) expect((await login(address, uniqueName('nobody'), SPRAYED)).response.status).toBe(401);
    expect((await login(address, own.user.username, own.password)).response.status).toBe(200);
    expect((await login(address, uniqueName('nobody'), SPRAYED)).response.status).toBe(401); // the 10th username
    const { error, response } = await login(address, own.user.username, own.password);
    expect(response.status).toBe(429);
    expect(error).toMatchObject({ code: 'LOGIN_THROTTLED' });
  });
});

describe('LOGIN_ADDRESS_MAX_USERNAMES and LOGIN_ADDRESS_WINDOW_SECONDS', () => {
  it('set the allowance and the wait', async () => {
    const strict = await startApp({ LOGIN_ADDRESS_MAX_USERNAMES: '2', LOGIN_ADDRESS_WINDOW_SECONDS: '120' });
    try {
      const attempt = (username: string) => strict.api.POST('/api/auth/jwt/login/', { body: { username, password: SPRAYED } });
      expect((await attempt(uniqueName('a'))).response.status).toBe(401);
      expect((await attempt(uniqueName('b'))).response.status).toBe(401);
      const { error, response } = await attempt(uniqueName('c'));
      expect(response.status).toBe(429);
      expect(error).toMatchObject({ code: 'LOGIN_THROTTLED' });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(60);
      expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(120);
    } finally {
      await strict.close();
    }
  });
});
