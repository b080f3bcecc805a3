import { operationIndex } from '../../../generated/operations';
import { startApp, type TestApp } from '../../support/app';

const limits = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: res.headers.get('ratelimit-reset'),
});

describe('rate limiting per client address', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: '1' });
  });
  afterAll(() => app.close());

  const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });

  it('counts down in the RateLimit headers, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await app.api.GET('/api/', from('203.0.113.1'));
      expect(response.status).toBe(200);
      seen.push(limits(response));
    }
    expect(seen.map((s) => [s.limit, s.remaining])).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ]);
    for (const s of seen) expect(Number(s.reset)).toBeGreaterThanOrEqual(0);
    for (const s of seen) expect(Number(s.reset)).toBeLessThanOrEqual(60);

    const { error, response } = await app.api.GET('/api/', from('203.0.113.1'));
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limits(response)).toEqual({ limit: '3', remaining: '0', reset: String(retryAfter) });
  });

  it('limits every operation, including ones that fail validation or authentication', async () => {
    const client = from('203.0.113.2');
    await app.api.GET('/api/auth/me/', client); // 401
    await app.api.POST('/api/auth/jwt/login/', { ...client, body: {} as never }); // 400
    await app.api.GET('/api/users/', client); // 401
    const { error, response } = await app.api.POST('/api/auth/register/', { ...client, body: {} as never });
    expect(response.status).toBe(429);
    expect(error).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('counts each address on its own', async () => {
    const { response } = await app.api.GET('/api/', from('203.0.113.3'));
    expect(response.status).toBe(200);
    expect(limits(response).remaining).toBe('2');
  });

  it('never limits the health probes, even for an address that is throttled', async () => {
    for (let i = 0; i < 5; i++) {
      const health = await app.api.GET('/healthz', from('203.0.113.1'));
      expect(health.response.status).toBe(200);
      expect(health.response.headers.get('ratelimit-limit')).toBeNull();
      const ready = await app.api.GET('/readyz', from('203.0.113.1'));
      expect(ready.response.status).toBe(200);
    }
  });
});

describe('rate limiting settings', () => {
  it('is on by default (600 requests a minute) and off with RATE_LIMIT_MAX=0', async () => {
    const on = await startApp();
    try {
      const { response } = await on.api.GET('/api/');
      expect(limits(response).limit).toBe('600');
    } finally {
      await on.close();
    }
    const off = await startApp({ RATE_LIMIT_MAX: '0' });
    try {
      const { response } = await off.api.GET('/api/');
      expect(response.status).toBe(200);
      expect(limits(response)).toEqual({ limit: null, remaining: null, reset: null });
    } finally {
      await off.close();
    }
  });

  it('is declared by the contract: every operation but the probes documents 429', () => {
    for (const [id, op] of Object.entries(operationIndex)) {
      const probe = op.path === '/healthz' || op.path === '/readyz';
      expect({ id, declares429: (op.responses as readonly string[]).includes('429') }).toEqual({ id, declares429: !probe });
    }
  });
});
