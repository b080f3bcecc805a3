import { Writable } from 'node:stream';
import { createLogger } from '../../../src/logger';
import { startApp, type TestApp } from '../../support/app';

/**
 * What a newcomer meets first, over plain http under any name: security headers that do not break
 * the pages, `/api/product` without its slash, a comma in a price, and a readable access log.
 */

class Capture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  entries(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

describe('security headers by scheme', () => {
  let plain: TestApp;
  let publicHttps: TestApp;
  let behindTlsProxy: TestApp;
  beforeAll(async () => {
    [plain, publicHttps, behindTlsProxy] = await Promise.all([
      startApp({ ALLOWED_HOSTS: 'shop.lan,127.0.0.1' }),
      startApp({ PUBLIC_URL: 'https://shop.example.com' }),
      startApp({ TRUST_PROXY: 'loopback' }),
    ]);
  });
  afterAll(() => Promise.all([plain, publicHttps, behindTlsProxy].map((a) => a?.close())));

  it.each(['/api/', '/swagger/', '/redoc/', '/openapi.json'])('over plain http under any name, %s carries no upgrade-insecure-requests, HSTS or COOP', async (path) => {
    const res = await fetch(`${plain.baseUrl}${path}`, { headers: { host: 'shop.lan' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each(['/api/', '/swagger/'])('with an https PUBLIC_URL, %s carries upgrade-insecure-requests and HSTS', async (path) => {
    const res = await fetch(`${publicHttps.baseUrl}${path}`);
    expect(res.headers.get('content-security-policy')).toMatch(/upgrade-insecure-requests/);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  });

  it('behind a trusted TLS proxy (X-Forwarded-Proto: https) the same; the same server over plain http not', async () => {
    const secure = await fetch(`${behindTlsProxy.baseUrl}/swagger/`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.headers.get('content-security-policy')).toMatch(/upgrade-insecure-requests/);
    expect(secure.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    const insecure = await fetch(`${behindTlsProxy.baseUrl}/swagger/`);
    expect(insecure.headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
    expect(insecure.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('paths, query values and the access log', () => {
  let app: TestApp;
  let log: Capture;
  beforeAll(async () => {
    log = new Capture();
    app = await startApp({}, undefined, { logger: createLogger('info', log) });
  });
  afterAll(() => app.close());

  it('redirects a known path typed without its trailing slash (308, query kept, method kept)', async () => {
    const list = await fetch(`${app.baseUrl}/api/product?min_price=1&ordering=price`, { redirect: 'manual' });
    expect(list.status).toBe(308);
    expect(list.headers.get('location')).toBe('/api/product/?min_price=1&ordering=price');
    const detail = await fetch(`${app.baseUrl}/api/product/42`, { redirect: 'manual' });
    expect(detail.status).toBe(308);
    expect(detail.headers.get('location')).toBe('/api/product/42/');
    const login = await fetch(`${app.baseUrl}/api/auth/jwt/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(login.status).toBe(308);
    expect(login.headers.get('location')).toBe('/api/auth/jwt/login/');
    // Followed, the redirect reaches the list.
    const followed = await fetch(`${app.baseUrl}/api/product`);
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(`${app.baseUrl}/api/product/`);
  });

  it('still answers 404 for a path the contract does not have, with or without the slash', async () => {
    for (const path of ['/api/nothing', '/api/nothing/', '/api/product/1/2']) {
      const res = await fetch(`${app.baseUrl}${path}`, { redirect: 'manual' });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('explains min_price=10,5: the field, and that a decimal with a dot is expected', async () => {
    for (const query of ['min_price=10,5', 'max_price=10,5']) {
      const res = await fetch(`${app.baseUrl}/api/product/?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { errors: { field: string; message: string }[] };
      const field = `query.${query.split('=')[0]}`;
      expect(body.errors).toEqual([{ field, message: expect.stringMatching(/decimal number with a dot .*such as 19\.99/) }]);
      expect(JSON.stringify(body)).not.toMatch(/url encoded/);
    }
  });

  it('logs one short line per request at info (method, URL, status, time, request id; no headers); the probes not at info', async () => {
    log.lines.length = 0;
    await fetch(`${app.baseUrl}/healthz`);
    await fetch(`${app.baseUrl}/readyz`);
    const res = await fetch(`${app.baseUrl}/api/product/?page_size=1`, { headers: { 'x-request-id': 'first-contact-1', 'user-agent': 'jest' } });
    expect(res.status).toBe(200);
    const entries = log.entries();
    expect(entries.map((e) => e.msg)).toEqual([expect.stringMatching(/^GET \/api\/product\/\?page_size=1 200 \d+ms$/)]);
    const [line] = entries;
    expect(line).toMatchObject({ level: 30, reqId: 'first-contact-1', req: { method: 'GET', url: '/api/product/?page_size=1' }, res: { statusCode: 200 } });
    expect(typeof line!.responseTime).toBe('number');
    expect(Object.keys(line!.req as object).sort()).toEqual(['method', 'url']);
    expect(Object.keys(line!.res as object)).toEqual(['statusCode']);
    expect(log.lines[0]!.length).toBeLessThan(400);
    expect(log.lines[0]).not.toMatch(/jest|user-agent|headers/);
  });
});
