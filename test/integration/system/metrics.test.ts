import { startApp, type TestApp } from '../../support/app';
import { sample } from '../../support/prometheus';

const TOKEN = 'metrics-token-0123456789abcdef';

async function scrape(app: TestApp): Promise<string> {
  const res = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

describe('GET /metrics behind METRICS_TOKEN', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ METRICS_TOKEN: TOKEN, RATE_LIMIT_MAX: '4' });
    // Sent before the first scrape (queue readings are cached for 5 s); this app runs no worker.
    await app.orm.em.fork().transactional((tx) => app.services.jobs.send(tx, 'mail.send', { to: 'metrics@example.com', subject: 'Queued', text: 'Not worked.' }));
  });
  afterAll(() => app.close());

  it('answers 401 problem+json without the token or with another one', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token-at-all-000' }, { authorization: TOKEN }] as Record<string, string>[]) {
      const res = await fetch(`${app.baseUrl}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it('serves the Prometheus text format with the token, never throttled', async () => {
    // RATE_LIMIT_MAX is 4 (the API calls below use it up): scrapes are not counted against it.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      expect(text).toContain('process_resident_memory_bytes');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
    }
  });

  it('counts and times requests by operation and status class, GraphQL by operation name', async () => {
    expect((await app.api.GET('/api/product/')).response.status).toBe(200);
    expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: 987654 } } })).response.status).toBe(404);
    const gql = await fetch(`${app.baseUrl}/graphql/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: 'query CategoryMenu { categoryTree { id } }' }),
    });
    expect(gql.status).toBe(200);
    const unknown = await fetch(`${app.baseUrl}/no-such-path/`);
    expect(unknown.status).toBe(404);

    const text = await scrape(app);
    expect(sample(text, 'http_requests_total', { operation: 'listProducts', status_class: '2xx', method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_requests_total', { operation: 'getProduct', status_class: '4xx', method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_requests_total', { operation: 'graphql:CategoryMenu', status_class: '2xx', method: 'POST' })).toBe(1);
    expect(sample(text, 'http_requests_total', { operation: 'unmatched', status_class: '4xx', method: 'GET' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { operation: 'listProducts', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_bucket', { operation: 'getProduct', status_class: '4xx', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { operation: 'graphql:CategoryMenu', status_class: '2xx' })).toBe(1);
  });

  it('reads the database pools at scrape time', async () => {
    const text = await scrape(app);
    expect(sample(text, 'db_pool_connections_in_use', { pool: 'write' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_connections_idle', { pool: 'write' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'db_pool_acquires_waiting', { pool: 'write' })).toBe(0);
  });

  it('shows a job sent and not yet worked in its queue depth (this app runs no worker)', async () => {
    const text = await scrape(app);
    expect(sample(text, 'job_queue_depth', { queue: 'mail.send', state: 'queued' })).toBe(1);
    expect(sample(text, 'job_queue_depth', { queue: 'mail.send', state: 'active' })).toBe(0);
    expect(sample(text, 'job_queue_failed', { queue: 'mail.send' })).toBe(0);
  });
});

describe('GET /metrics on METRICS_PORT', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ METRICS_PORT: '0' });
  });
  afterAll(() => app.close());

  it('serves /metrics on its own port without auth, and not on the API port', async () => {
    expect((await app.api.GET('/api/product/')).response.status).toBe(200);
    const res = await fetch(`${app.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(sample(text, 'http_requests_total', { operation: 'listProducts', status_class: '2xx', method: 'GET' })).toBe(1);
    expect((await fetch(`${app.metricsUrl}/other`)).status).toBe(404);
    const api = await fetch(`${app.baseUrl}/metrics`);
    expect(api.status).toBe(404);
  });
});

describe('GET /metrics not configured', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('is 404 like any unknown path', async () => {
    const res = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
