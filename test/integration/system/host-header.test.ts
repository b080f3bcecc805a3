import { startApp, type TestApp } from '../../support/app';
import { sql, uniqueName } from '../../support/factories';
import { rawRequest } from '../../support/raw-http';

/**
 * Issue 12, Host header: absolute links (next/previous, Location, the API root) never come from a
 * host the server was not told to serve, so a shared cache can never hand an attacker's links to
 * everyone. Without PUBLIC_URL a request for any other host is 400 DISALLOWED_HOST; with it, links
 * are always on PUBLIC_URL.
 */
const EVIL = 'evil.example';

const register = (app: TestApp, headers: Record<string, string>) => {
  const username = uniqueName();
  return rawRequest(app.baseUrl, '/api/auth/register/', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, email: `${username}@example.com`, password: 'a-good-password-123' }),
  });
};
const userCount = async (app: TestApp) => (await sql<{ n: number }>(app, 'select count(*)::int as n from users'))[0]!.n;

describe('without PUBLIC_URL: only the allowed hosts (localhost, 127.0.0.1, [::1] by default)', () => {
  let app: TestApp;
  let port: string;
  beforeAll(async () => {
    app = await startApp();
    port = new URL(app.baseUrl).port;
    // Several categories, so a list of one per page has a next link.
    for (let i = 0; i < 3; i++) await app.services.categories.create(app.orm.em.fork(), { name: uniqueName('cat') });
  });
  afterAll(() => app.close());

  it.each([
    ['the API root', '/api/'],
    ['an anonymous, publicly cacheable list', '/api/category/?page_size=1'],
    ['a detail', '/api/category/1/'],
    ['the docs', '/swagger/'],
    ['GraphQL', '/graphql/schema.graphql'],
  ])('refuses %s for Host: evil.example with 400 DISALLOWED_HOST', async (_name, path) => {
    const res = await rawRequest(app.baseUrl, path, { headers: { host: EVIL } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json).toMatchObject({ status: 400, code: 'DISALLOWED_HOST', errors: [{ field: 'header.Host' }] });
    expect(res.text).not.toContain(EVIL);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a write for another host, and writes nothing', async () => {
    const before = await userCount(app);
    const res = await register(app, { host: `${EVIL}:${port}` });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('DISALLOWED_HOST');
    expect(res.headers.location).toBeUndefined();
    expect(await userCount(app)).toBe(before);
  });

  it.each([['evil.example:80'], ['127.0.0.1.evil.example'], ['localhost.evil.example'], ['127.0.0.1@evil.example'], ['evil.example/127.0.0.1'], ['']])(
    'refuses Host: %j',
    async (host) => {
      const res = await rawRequest(app.baseUrl, '/api/', { headers: { host } });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('DISALLOWED_HOST');
    },
  );

  it('builds links on an allowed host, in any letter case and with its port', async () => {
    const res = await rawRequest(app.baseUrl, '/api/category/?page_size=1', { headers: { host: `LocalHost:${port}` } });
    expect(res.status).toBe(200);
    expect(res.json.next).toMatch(new RegExp(`^http://localhost:${port}/api/category/\\?`, 'i'));
    expect(res.headers['cache-control']).toMatch(/^public/);
    const created = await register(app, { host: `127.0.0.1:${port}` });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`http://127.0.0.1:${port}/api/users/${created.json.id}/`);
  });

  it('answers the health probes for any host (orchestrators call them by address)', async () => {
    expect((await rawRequest(app.baseUrl, '/healthz', { headers: { host: EVIL } })).status).toBe(200);
    expect((await rawRequest(app.baseUrl, '/readyz', { headers: { host: '10.1.2.3:8000' } })).status).toBe(200);
  });

  it('ignores X-Forwarded-Host and X-Forwarded-Proto when no proxy is trusted', async () => {
    const res = await rawRequest(app.baseUrl, '/api/', { headers: { host: `127.0.0.1:${port}`, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(200);
    expect(res.json.resources.product).toBe(`http://127.0.0.1:${port}/api/product/`);
    expect(res.text).not.toContain(EVIL);
  });
});

describe('behind a trusted proxy (TRUST_PROXY), X-Forwarded-Host is the host checked', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ TRUST_PROXY: 'loopback', ALLOWED_HOSTS: 'shop.example.com,.cdn-shop.example' });
  });
  afterAll(() => app.close());

  it('refuses a forwarded host that is not allowed', async () => {
    const res = await rawRequest(app.baseUrl, '/api/', { headers: { host: 'shop.example.com', 'x-forwarded-host': EVIL } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('DISALLOWED_HOST');
  });

  it('builds links on an allowed forwarded host and scheme', async () => {
    const res = await rawRequest(app.baseUrl, '/api/', { headers: { host: 'internal:8000', 'x-forwarded-host': 'shop.example.com', 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(200);
    expect(res.json.resources.product).toBe('https://shop.example.com/api/product/');
  });

  it('allows the subdomains of a .domain entry, not look-alikes', async () => {
    expect((await rawRequest(app.baseUrl, '/api/', { headers: { host: 'eu.cdn-shop.example' } })).status).toBe(200);
    expect((await rawRequest(app.baseUrl, '/api/', { headers: { host: 'cdn-shop.example' } })).status).toBe(200);
    expect((await rawRequest(app.baseUrl, '/api/', { headers: { host: 'evilcdn-shop.example' } })).status).toBe(400);
  });

  it('does not believe a forwarded scheme other than http or https', async () => {
    const res = await rawRequest(app.baseUrl, '/api/', { headers: { host: 'shop.example.com', 'x-forwarded-proto': 'javascript' } });
    expect(res.status).toBe(200);
    expect(res.json.resources.product).toBe('http://shop.example.com/api/product/');
  });
});

describe('with PUBLIC_URL, links are on PUBLIC_URL whatever the Host', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ PUBLIC_URL: 'https://shop.example.com' });
    for (let i = 0; i < 3; i++) await app.services.categories.create(app.orm.em.fork(), { name: uniqueName('cat') });
  });
  afterAll(() => app.close());

  it('the API root, list links and Location never name the request host', async () => {
    const root = await rawRequest(app.baseUrl, '/api/', { headers: { host: EVIL } });
    expect(root.status).toBe(200);
    expect(root.json.resources.product).toBe('https://shop.example.com/api/product/');
    const list = await rawRequest(app.baseUrl, '/api/category/?page_size=1', { headers: { host: EVIL, 'x-forwarded-host': EVIL } });
    expect(list.status).toBe(200);
    expect(list.json.next).toMatch(/^https:\/\/shop\.example\.com\/api\/category\/\?/);
    const created = await register(app, { host: EVIL });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`https://shop.example.com/api/users/${created.json.id}/`);
    for (const res of [root, list, created]) expect(res.text + JSON.stringify(res.headers)).not.toContain(EVIL);
  });
});
