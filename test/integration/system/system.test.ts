import { startApp, type TestApp } from '../../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe('probes', () => {
  it('GET /healthz answers ok without touching the database', async () => {
    const { data, response } = await app.api.GET('/healthz');
    expect(response.status).toBe(200);
    expect(data).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the database', async () => {
    const { data, response } = await app.api.GET('/readyz');
    expect(response.status).toBe(200);
    expect(data).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });

  it('GET /readyz answers 503 while draining', async () => {
    app.services.lifecycle.draining = true;
    try {
      const { error, response } = await app.api.GET('/readyz');
      expect(response.status).toBe(503);
      expect(response.headers.get('connection')).toBe('close');
      expect(error).toMatchObject({ code: 'SHUTTING_DOWN', status: 503 });
    } finally {
      app.services.lifecycle.draining = false;
    }
  });
});

describe('GET /api/', () => {
  it('indexes the resource collections of the contract and the docs, as absolute links', async () => {
    const { data, response } = await app.api.GET('/api/');
    expect(response.status).toBe(200);
    expect(data!.resources.users).toBe(`${app.baseUrl}/api/users/`);
    expect(data!.docs).toEqual({
      swagger: `${app.baseUrl}/swagger/`,
      redoc: `${app.baseUrl}/redoc/`,
      openapi_json: `${app.baseUrl}/openapi.json`,
      openapi_yaml: `${app.baseUrl}/openapi.yaml`,
    });
    for (const url of Object.values(data!.resources)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/[a-z_]+\/$/);
  });

  it('builds links from PUBLIC_URL when it is set', async () => {
    const behindProxy = await startApp({ PUBLIC_URL: 'https://shop.example.com/' });
    try {
      const { data } = await behindProxy.api.GET('/api/');
      expect(data!.docs.swagger).toBe('https://shop.example.com/swagger/');
    } finally {
      await behindProxy.close();
    }
  });
});

describe('documentation', () => {
  it('serves the contract as JSON and YAML', async () => {
    const json = await fetch(`${app.baseUrl}/openapi.json`);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    const doc = (await json.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/auth/jwt/login/');
    const yaml = await fetch(`${app.baseUrl}/openapi.yaml`);
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    expect(await yaml.text()).toMatch(/^openapi: 3\.1\.0/);
  });

  it('serves Swagger UI at /swagger/ and Redoc at /redoc/', async () => {
    const swagger = await fetch(`${app.baseUrl}/swagger/`);
    expect(swagger.status).toBe(200);
    expect(await swagger.text()).toContain('swagger-ui');
    const init = await fetch(`${app.baseUrl}/swagger/swagger-ui-init.js`);
    expect(await init.text()).toContain('/api/auth/jwt/login/');
    const redoc = await fetch(`${app.baseUrl}/redoc/`);
    expect(redoc.status).toBe(200);
    const html = await redoc.text();
    expect(html).toContain('E-commerce Backend API');
    expect(html).not.toMatch(/<script[^>]+src="https?:/); // self-contained: works offline
  });
});

describe('cross-cutting HTTP behaviour', () => {
  it('answers unknown routes with a 404 problem and wrong methods with 405 and Allow', async () => {
    const missing = await fetch(`${app.baseUrl}/api/nothing-here/`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await missing.json()) as { code: string }).code).toBe('NOT_FOUND');
    const wrong = await fetch(`${app.baseUrl}/api/auth/me/`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toMatch(/GET/);
  });

  it('echoes a well-formed X-Request-Id and makes one up otherwise; problems quote it', async () => {
    const given = await fetch(`${app.baseUrl}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await fetch(`${app.baseUrl}/api/nope/`, { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = made.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await made.json()) as { request_id: string }).request_id).toBe(id);
  });

  it('sends security headers', async () => {
    const res = await fetch(`${app.baseUrl}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('allows CORS only for configured origins', async () => {
    const cors = await startApp({ CORS_ORIGINS: 'https://shop.example.com' });
    try {
      const preflight = (origin: string) =>
        fetch(`${cors.baseUrl}/api/auth/jwt/login/`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
      expect((await preflight('https://shop.example.com')).headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
      expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await cors.close();
    }
  });
});
