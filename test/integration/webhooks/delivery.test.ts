import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, pay, placeOrder, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { deliveriesOf, payloadErrors, type Received, Receiver, register, verify } from './receiver';

/**
 * Delivery through real API actions to a real receiver: every event type, signed (verified with the
 * standardwebhooks package) and matching the contract's `webhooks:` schemas; retries on a 500 and a
 * timeout; order per aggregate; the per-endpoint concurrency limit; nothing for a rolled-back change.
 */
let app: TestApp;
let shop: Shop;
let worker: TestWorker;
let receiver: Receiver;
const endpoints: number[] = [];
beforeAll(async () => {
  app = await startApp({ WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_ENDPOINT_CONCURRENCY: '2' });
  shop = await openShop(app);
  worker = await startTestWorker(app);
  receiver = await Receiver.start();
});
afterEach(async () => {
  // Each test's endpoints go: the next test's receiver sees only its own events.
  for (const id of endpoints.splice(0)) await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id } } });
  receiver.requests.length = 0;
  receiver.maxInFlight = 0;
  receiver.behave = () => 200;
});
afterAll(async () => {
  await worker.stop();
  await receiver.close();
  await app.close();
});

async function endpoint(events: string[]) {
  const e = await register(shop.admin, receiver.url, events);
  endpoints.push(e.id);
  return e;
}

/** Checks what every delivery must be: signed with the secret, a webhook-id, a fresh timestamp, a body the contract describes. */
function checkDelivery(secret: string, r: Received): void {
  expect(verify(secret, r)).toEqual(r.json);
  expect(r.headers['webhook-id']).toMatch(/^msg_\d+$/);
  expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
  expect(r.headers['content-type']).toBe('application/json');
  expect(payloadErrors(r)).toEqual([]);
}

const rename = (id: number, name: string) => shop.vendor.api.PATCH('/api/product/{id}/', { params: { path: { id } }, body: { name } });

it('delivers every event type from real API actions, signed and matching the contract', async () => {
  const all = ['order.created', 'order.paid', 'order.cancelled', 'order.shipped', 'order.refunded', 'product.created', 'product.updated', 'product.deleted', 'variant.stock_changed'];
  const { secret } = await endpoint(all);

  // product.created, product.updated, variant.stock_changed, product.deleted
  const p = await product(app, shop, '12.50', 10);
  const created = await receiver.event('product.created', (d) => d.id === p.id);
  expect(created.json.data).toMatchObject({ id: p.id, name: p.name, slug: p.slug, price: '12.50', currency: 'USD', is_active: true, category: shop.category, vendor: shop.vendor.user.id, stock: 10 });
  expect((await rename(p.id, 'Renamed shirt')).response.status).toBe(200);
  expect((await receiver.event('product.updated', (d) => d.id === p.id)).json.data).toMatchObject({ name: 'Renamed shirt' });
  await shop.vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { stock: 7 } });
  expect((await receiver.event('variant.stock_changed', (d) => d.stock === 7)).json.data).toEqual({ variant_id: p.variants[0].id, product_id: p.id, sku: p.variants[0].sku, stock: 7, previous_stock: 10 });

  // order.created (and the sale's stock change), order.paid, order.shipped, order.refunded
  const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
  const order = await placeOrder(b);
  expect((await receiver.event('order.created', (d) => d.id === order.id)).json.data).toEqual({
    id: order.id,
    status: 'pending_payment',
    payment_status: 'unpaid',
    total: order.total,
    refunded_total: '0.00',
    currency: 'USD',
    user_id: b.user.id,
    email: null,
    created_at: order.created_at,
  });
  expect((await receiver.event('variant.stock_changed', (d) => d.stock === 5)).json.data).toMatchObject({ previous_stock: 7 });
  expect((await pay(b, order.id)).data!.status).toBe('succeeded');
  expect((await receiver.event('order.paid', (d) => d.id === order.id)).json.data).toMatchObject({ status: 'paid', payment_status: 'paid' });
  const path = { params: { path: { order_id: order.id } } };
  await shop.admin.api.POST('/api/shipments/{order_id}/', { ...path, body: { carrier: 'DHL', tracking_number: `WH${order.id}`, status: 'shipped' } });
  expect((await receiver.event('order.shipped', (d) => d.id === order.id)).json.data).toMatchObject({ status: 'shipped' });
  // A returned shipment refunds the order: the provider's refund (a job) announces order.refunded.
  await shop.admin.api.PATCH('/api/shipments/{order_id}/', { ...path, body: { status: 'returned' } });
  expect((await receiver.event('order.refunded', (d) => d.id === order.id)).json.data).toMatchObject({ status: 'refunded', payment_status: 'refunded', refunded_total: order.total, amount: order.total });

  // order.cancelled
  const b2 = await buyer(app, [{ variant: p.variants[0].id }]);
  const unpaid = await placeOrder(b2);
  await b2.api.POST('/api/order/{id}/cancel/', { params: { path: { id: unpaid.id } } });
  expect((await receiver.event('order.cancelled', (d) => d.id === unpaid.id)).json.data).toMatchObject({ status: 'cancelled' });

  expect((await shop.vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
  expect((await receiver.event('product.deleted', (d) => d.id === p.id)).json.data).toEqual({ id: p.id });

  for (const type of all) expect([type, receiver.of(type).length > 0]).toEqual([type, true]);
  for (const r of receiver.requests) checkDelivery(secret, r);
  // One webhook-id per event: every request here was its event's only delivery.
  expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(receiver.requests.length);
});

it('retries after a 500 and after a timeout, then succeeds: same webhook-id, a new timestamp each time', async () => {
  const { id, secret } = await endpoint(['product.updated']);
  const p = await product(app, shop);
  // A 500, then a request held past WEBHOOK_TIMEOUT_MS (1 s), then 200.
  receiver.behave = (_r, i) => (i === 0 ? 500 : i === 1 ? 'hold' : 200);
  await rename(p.id, 'Retried');
  await receiver.until(() => receiver.requests.some((r) => r.answered === 200));
  expect(receiver.requests.map((r) => r.answered)).toEqual([500, null, 200]);
  expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  for (const r of receiver.requests) checkDelivery(secret, r);

  const [delivery] = await eventually(() => deliveriesOf(app, id), (d) => d[0]?.status === 'succeeded', 10_000);
  expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3 });
  const attempts = await sql<{ status_code: number | null; error: string | null }>(app, 'select status_code, error from webhook_attempts where delivery_id = ? order by id', [delivery!.id]);
  expect(attempts).toEqual([
    { status_code: 500, error: 'HTTP 500' },
    { status_code: null, error: 'timed out after 1000 ms' },
    { status_code: 200, error: null },
  ]);
});

it('treats a redirect as a failure (not followed)', async () => {
  const { id } = await endpoint(['product.updated']);
  const p = await product(app, shop);
  receiver.behave = (_r, i) => (i === 0 ? 302 : 200);
  await rename(p.id, 'Redirected');
  await receiver.until(() => receiver.requests.some((r) => r.answered === 200));
  const [delivery] = await eventually(() => deliveriesOf(app, id), (d) => d[0]?.status === 'succeeded', 10_000);
  const attempts = await sql<{ status_code: number; error: string | null }>(app, 'select status_code, error from webhook_attempts where delivery_id = ? order by id', [delivery!.id]);
  expect(attempts).toEqual([
    { status_code: 302, error: 'redirect (302) not followed' },
    { status_code: 200, error: null },
  ]);
});

it('keeps the order of one aggregate’s events, even when the first needed retries', async () => {
  await endpoint(['product.updated']);
  const p = await product(app, shop);
  receiver.behave = (_r, i) => (i < 2 ? 500 : 200);
  for (const name of ['First', 'Second', 'Third', 'Fourth']) expect((await rename(p.id, name)).response.status).toBe(200);
  await receiver.until(() => receiver.requests.filter((r) => r.answered === 200).length === 4);
  expect(receiver.requests.map((r) => `${r.json.data.name} ${r.answered}`)).toEqual(['First 500', 'First 500', 'First 200', 'Second 200', 'Third 200', 'Fourth 200']);
});

it('never has more than WEBHOOK_ENDPOINT_CONCURRENCY (2) deliveries in flight to one endpoint', async () => {
  await endpoint(['product.created']);
  // Each answer takes a while, so deliveries of different products overlap as much as allowed.
  receiver.behave = () => new Promise((resolve) => setTimeout(() => resolve(200), 300));
  await Promise.all(Array.from({ length: 8 }, () => product(app, shop)));
  await receiver.until(() => receiver.requests.length === 8);
  expect(receiver.maxInFlight).toBe(2);
});

it('sends nothing for a change whose transaction rolled back after it published', async () => {
  const { id, secret } = await endpoint(['order.created', 'variant.stock_changed']);
  const a = await product(app, shop, '5.00', 5);
  const late = await product(app, shop, '5.00', 1);
  const b = await buyer(app, [{ variant: a.variants[0].id }, { variant: late.variants[0].id }]);
  // The second line runs out after it was put in the cart: the placement takes the first line's
  // stock (and announces it, in its transaction), then fails on the second and rolls back.
  await shop.vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: late.variants[0].id } }, body: { stock: 0 } });
  const refused = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
  expect(refused.response.status).toBe(409);
  expect(refused.error).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
  // A later change of the same variant: its delivery comes after anything recorded before it.
  await shop.vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: a.variants[0].id } }, body: { stock: 9 } });
  await receiver.event('variant.stock_changed', (d) => d.variant_id === a.variants[0].id && d.stock === 9);
  expect(receiver.of('order.created')).toEqual([]);
  expect(receiver.of('variant.stock_changed').filter((r) => r.json.data.variant_id === a.variants[0].id).map((r) => r.json.data)).toEqual([
    { variant_id: a.variants[0].id, product_id: a.id, sku: a.variants[0].sku, stock: 9, previous_stock: 5 },
  ]);
  for (const r of receiver.requests) checkDelivery(secret, r);
  // And nothing of it was recorded: only the two stock settings.
  expect((await deliveriesOf(app, id)).length).toBe(2);
});
