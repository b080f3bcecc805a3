import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { eventually } from '../../support/checkout';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { Receiver, register, verify } from './receiver';

/** The webhook administration: endpoints, validation, roles, secrets and their rotation, the delivery log and redelivery. */
let app: TestApp;
let admin: Actor;
beforeAll(async () => {
  app = await startApp({ WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_SECRET_ROTATION_HOURS: '24' });
  admin = await actor(app, 'admin');
});
afterAll(() => app.close());

const URL_OK = 'https://erp.example.com/hooks/shop';

/** Sends a body the typed client would not let through. */
async function send(method: 'POST' | 'PATCH' | 'GET' | 'DELETE', path: string, body?: unknown, token: string | null = admin.tokens.access) {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as { code?: string; errors?: { field: string; message: string }[] } & Record<string, unknown> };
}

describe('endpoints', () => {
  it('registers, reads, lists, updates and deletes an endpoint; the secret is answered once', async () => {
    const created = await admin.api.POST('/api/webhook/', { body: { url: URL_OK, events: ['order.created', 'order.paid'], description: 'ERP' } });
    expect(created.response.status).toBe(201);
    const e = created.data!;
    expect(created.response.headers.get('location')).toMatch(new RegExp(`/api/webhook/${e.id}/$`));
    expect(e).toMatchObject({ url: URL_OK, events: ['order.created', 'order.paid'], description: 'ERP', enabled: true, failure_streak: 0, disabled_reason: null });
    expect(e.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(e.secret.slice(6), 'base64')).toHaveLength(32);

    const { secret, ...listed } = e;
    const got = await admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } });
    expect(got.data).toEqual(listed);
    expect(JSON.stringify(got.data)).not.toContain(secret);

    const other = await register(admin, `${URL_OK}/2`, ['product.created']);
    const page1 = await admin.api.GET('/api/webhook/', { params: { query: { page_size: 1 } } });
    expect(page1.data!.results).toHaveLength(1);
    expect(page1.data!.next).not.toBeNull();
    const all = await admin.api.GET('/api/webhook/', { params: { query: { page: 1, page_size: 100 } } });
    expect(all.data!.results.map((x) => x.id)).toEqual(expect.arrayContaining([e.id, other.id]));
    expect(JSON.stringify(all.data)).not.toContain('whsec_');

    const patched = await admin.api.PATCH('/api/webhook/{id}/', { params: { path: { id: e.id } }, body: { events: ['variant.stock_changed'], description: '', url: 'http://erp.example.com/x?y=1' } });
    expect(patched.data).toMatchObject({ events: ['variant.stock_changed'], description: '', url: 'http://erp.example.com/x?y=1' });

    const disabled = await admin.api.PATCH('/api/webhook/{id}/', { params: { path: { id: e.id } }, body: { enabled: false } });
    expect(disabled.data).toMatchObject({ enabled: false, disabled_reason: 'disabled by an admin' });
    expect(disabled.data!.disabled_at).not.toBeNull();
    const enabled = await admin.api.PATCH('/api/webhook/{id}/', { params: { path: { id: e.id } }, body: { enabled: true } });
    expect(enabled.data).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null, failure_streak: 0 });

    expect((await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } })).response.status).toBe(204);
    const gone = await admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ code: 'NOT_FOUND' });
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: other.id } } });
  });

  it('answers 404 for an endpoint that does not exist, on every operation', async () => {
    const id = 999_999;
    const expect404 = (r: { status: number; body: { code?: string } }) => expect(r).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect404(await send('GET', `/api/webhook/${id}/`));
    expect404(await send('PATCH', `/api/webhook/${id}/`, { enabled: true }));
    expect404(await send('DELETE', `/api/webhook/${id}/`));
    expect404(await send('POST', `/api/webhook/${id}/rotate-secret/`));
    expect404(await send('GET', `/api/webhook/${id}/deliveries/`));
    expect404(await send('GET', `/api/webhook/${id}/deliveries/1/`));
    expect404(await send('POST', `/api/webhook/${id}/deliveries/1/redeliver/`));
  });

  it.each([
    ['a missing url', { events: ['order.paid'] }, 'body.url'],
    ['a url that is not http(s)', { url: 'ftp://erp.example.com/x', events: ['order.paid'] }, 'body.url'],
    ['a url with credentials', { url: 'https://user:pass@erp.example.com/x', events: ['order.paid'] }, 'body.url'],
    ['a relative url', { url: '/hooks/shop', events: ['order.paid'] }, 'body.url'],
    ['a url too long', { url: `https://erp.example.com/${'a'.repeat(2100)}`, events: ['order.paid'] }, 'body.url'],
    ['missing events', { url: URL_OK }, 'body.events'],
    ['no events', { url: URL_OK, events: [] }, 'body.events'],
    ['an unknown event', { url: URL_OK, events: ['order.exploded'] }, 'body.events[0]'],
    ['an event twice', { url: URL_OK, events: ['order.paid', 'order.paid'] }, 'body.events'],
    ['a description too long', { url: URL_OK, events: ['order.paid'], description: 'x'.repeat(256) }, 'body.description'],
    ['enabled not a boolean', { url: URL_OK, events: ['order.paid'], enabled: 'yes' }, 'body.enabled'],
    ['an unknown field', { url: URL_OK, events: ['order.paid'], secret: 'whsec_abc' }, 'body.secret'],
  ])('refuses %s with a 400 naming the field, and registers nothing', async (_what, body, field) => {
    const before = await sql<{ n: number }>(app, 'select count(*)::int as n from webhook_endpoints');
    const res = await send('POST', '/api/webhook/', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors!.map((e) => e.field)).toContain(field);
    expect(await sql<{ n: number }>(app, 'select count(*)::int as n from webhook_endpoints')).toEqual(before);
  });

  it.each([
    ['an empty patch', {}, 'body'],
    ['a bad url', { url: 'mailto:ops@example.com' }, 'body.url'],
    ['no events', { events: [] }, 'body.events'],
    ['an unknown event', { events: ['user.created'] }, 'body.events[0]'],
  ])('refuses a patch with %s, changing nothing', async (_what, body, field) => {
    const e = await register(admin, URL_OK, ['order.paid']);
    const res = await send('PATCH', `/api/webhook/${e.id}/`, body);
    expect(res.status).toBe(400);
    expect(res.body.errors!.map((x) => x.field)).toContain(field);
    expect((await admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } })).data).toMatchObject({ url: URL_OK, events: ['order.paid'] });
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
  });

  it('is for admins only: anonymous 401, customers and vendors 403', async () => {
    const e = await register(admin, URL_OK, ['order.paid']);
    const [customer, vendor] = await Promise.all([actor(app), actor(app, 'vendor')]);
    const calls: [Parameters<typeof send>[0], string, unknown?][] = [
      ['GET', '/api/webhook/'],
      ['POST', '/api/webhook/', { url: URL_OK, events: ['order.paid'] }],
      ['GET', `/api/webhook/${e.id}/`],
      ['PATCH', `/api/webhook/${e.id}/`, { enabled: false }],
      ['DELETE', `/api/webhook/${e.id}/`],
      ['POST', `/api/webhook/${e.id}/rotate-secret/`],
      ['GET', `/api/webhook/${e.id}/deliveries/`],
      ['GET', `/api/webhook/${e.id}/deliveries/1/`],
      ['POST', `/api/webhook/${e.id}/deliveries/1/redeliver/`],
    ];
    for (const [method, path, body] of calls) {
      expect([path, (await send(method, path, body, null)).status]).toEqual([path, 401]);
      expect([path, (await send(method, path, body, customer.tokens.access)).status]).toEqual([path, 403]);
      expect([path, (await send(method, path, body, vendor.tokens.access)).status]).toEqual([path, 403]);
    }
    expect((await admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } })).data).toMatchObject({ enabled: true });
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
  });
});

describe('deliveries, redelivery and secret rotation', () => {
  let receiver: Receiver;
  let worker: TestWorker;
  beforeAll(async () => {
    receiver = await Receiver.start();
    worker = await startTestWorker(app);
  });
  afterAll(async () => {
    await worker.stop();
    await receiver.close();
  });

  /** A product made by a vendor through the API: one product.created event. */
  async function productCreated(): Promise<number> {
    const vendor = await actor(app, 'vendor');
    return (await makeProduct(vendor, (await makeCategory(admin)).id, { price: '9.99', stock: 3 })).id;
  }

  it('logs each delivery with its attempts, filters by status, and redelivers with the same webhook-id', async () => {
    const e = await register(admin, receiver.url, ['product.created']);
    receiver.behave = (_r, i) => (i === 0 ? 503 : 200);
    const productId = await productCreated();
    await receiver.until(() => receiver.requests.filter((r) => r.answered === 200).length === 1);
    const [first, second] = receiver.requests;
    expect(first!.headers['webhook-id']).toBe(second!.headers['webhook-id']);

    const list = await eventually(
      () => admin.api.GET('/api/webhook/{id}/deliveries/', { params: { path: { id: e.id } } }),
      (r) => r.data?.results[0]?.status === 'succeeded',
      10_000,
    );
    expect(list.data!.results).toHaveLength(1);
    const d = list.data!.results[0]!;
    expect(d).toMatchObject({ endpoint: e.id, event_type: 'product.created', status: 'succeeded', attempt_count: 2, last_status_code: 200, webhook_id: first!.headers['webhook-id'] });
    expect((await admin.api.GET('/api/webhook/{id}/deliveries/', { params: { path: { id: e.id }, query: { status: 'failed' } } })).data!.results).toEqual([]);
    expect((await admin.api.GET('/api/webhook/{id}/deliveries/', { params: { path: { id: e.id }, query: { status: 'succeeded' } } })).data!.results).toHaveLength(1);

    const detail = await admin.api.GET('/api/webhook/{id}/deliveries/{delivery_id}/', { params: { path: { id: e.id, delivery_id: d.id } } });
    expect(detail.data!.payload).toMatchObject({ type: 'product.created', data: { id: productId } });
    expect(detail.data!.attempts).toEqual([
      expect.objectContaining({ status_code: 503, error: 'HTTP 503', response_excerpt: 'refused with 503' }),
      expect.objectContaining({ status_code: 200, error: null, response_excerpt: 'ok' }),
    ]);
    for (const a of detail.data!.attempts) expect(a.duration_ms).toBeGreaterThanOrEqual(0);

    const again = await admin.api.POST('/api/webhook/{id}/deliveries/{delivery_id}/redeliver/', { params: { path: { id: e.id, delivery_id: d.id } } });
    expect(again.response.status).toBe(202);
    expect(again.data).toMatchObject({ id: d.id, status: 'pending' });
    await receiver.until(() => receiver.requests.length === 3);
    expect(receiver.requests[2]!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    verify(e.secret, receiver.requests[2]!);
    // The receiver answered; the worker records it a moment later.
    const done = await eventually(
      () => admin.api.GET('/api/webhook/{id}/deliveries/{delivery_id}/', { params: { path: { id: e.id, delivery_id: d.id } } }),
      (r) => r.data?.status !== 'pending',
      10_000,
    );
    expect(done.data).toMatchObject({ status: 'succeeded', attempt_count: 3 });

    // Another endpoint's delivery id is not this endpoint's.
    const other = await register(admin, receiver.url, ['order.paid']);
    expect((await send('GET', `/api/webhook/${other.id}/deliveries/${d.id}/`)).status).toBe(404);
    expect((await send('POST', `/api/webhook/${other.id}/deliveries/${d.id}/redeliver/`)).body.code).toBe('NOT_FOUND');

    // A disabled endpoint's delivery cannot be redelivered.
    await admin.api.PATCH('/api/webhook/{id}/', { params: { path: { id: e.id } }, body: { enabled: false } });
    const refused = await send('POST', `/api/webhook/${e.id}/deliveries/${d.id}/redeliver/`);
    expect(refused).toMatchObject({ status: 409, body: { code: 'WEBHOOK_DISABLED' } });
    expect((await admin.api.GET('/api/webhook/{id}/deliveries/{delivery_id}/', { params: { path: { id: e.id, delivery_id: d.id } } })).data).toMatchObject({ status: 'succeeded' });
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: other.id } } });
    receiver.requests.length = 0;
    receiver.behave = () => 200;
  });

  it('rotates the secret: during the overlap both the old and the new one verify', async () => {
    const e = await register(admin, receiver.url, ['product.created']);
    const rotated = await admin.api.POST('/api/webhook/{id}/rotate-secret/', { params: { path: { id: e.id } } });
    expect(rotated.response.status).toBe(200);
    const { secret, previous_secret_expires_at } = rotated.data!;
    expect(secret).not.toBe(e.secret);
    expect(secret).toMatch(/^whsec_/);
    const hours = (Date.parse(previous_secret_expires_at!) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    expect((await admin.api.GET('/api/webhook/{id}/', { params: { path: { id: e.id } } })).data!.previous_secret_expires_at).toBe(previous_secret_expires_at);

    await productCreated();
    await receiver.until(() => receiver.requests.length === 1);
    const r = receiver.requests[0]!;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(secret, r)).toMatchObject({ type: 'product.created' });
    expect(verify(e.secret, r)).toMatchObject({ type: 'product.created' });
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, r)).toThrow();

    // Once the overlap is over only the new secret signs.
    await sql(app, `update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ?`, [e.id]);
    await productCreated();
    await receiver.until(() => receiver.requests.length === 2);
    const later = receiver.requests[1]!;
    expect(String(later.headers['webhook-signature']).split(' ')).toHaveLength(1);
    verify(secret, later);
    expect(() => verify(e.secret, later)).toThrow();
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
    receiver.requests.length = 0;
  });

  it('writes nothing for an event no endpoint subscribes to', async () => {
    const e = await register(admin, receiver.url, ['order.paid']);
    const before = await sql<{ n: number }>(app, 'select count(*)::int as n from webhook_events');
    await productCreated();
    expect(await sql<{ n: number }>(app, 'select count(*)::int as n from webhook_events')).toEqual(before);
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
  });

  it('prunes events and deliveries past the retention', async () => {
    const e = await register(admin, receiver.url, ['product.created']);
    await productCreated();
    await receiver.until(() => receiver.requests.length === 1);
    await sql(app, `update webhook_events set created_at = now() - interval '31 days'`);
    const pruned = await app.services.webhooks.prune(app.orm.em.fork());
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await sql(app, 'select id from webhook_deliveries where endpoint_id = ?', [e.id])).toEqual([]);
    await admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
    receiver.requests.length = 0;
  });
});
