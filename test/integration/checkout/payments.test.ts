import { signWebhook } from '../../../src/modules/checkout';
import { startApp, TEST_WEBHOOK_SECRET, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, pay, placeOrder, product, type Shop, stockOf, webhook } from '../../support/checkout';
import { session } from '../../support/database-probes';
import { actor, sql } from '../../support/factories';
import { startTestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());

async function unpaidOrder(total = '25.00') {
  const p = await product(app, shop, total, 20);
  const b = await buyer(app, [{ variant: p.variants[0].id }]);
  return { b, order: await placeOrder(b), variant: p.variants[0].id };
}
const status = (b: Awaited<ReturnType<typeof buyer>>, order: number) =>
  b.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order } } }).then((r) => r.data!);

describe('card payments', () => {
  it('charges the order total and pays the order; initiating again does not charge twice', async () => {
    const { b, order } = await unpaidOrder('25.00');
    const first = await pay(b, order.id);
    expect(first.response.status).toBe(201);
    expect(first.data).toMatchObject({ order: order.id, method: 'card', amount: '25.00', currency: 'USD', status: 'succeeded', provider: 'sandbox', failure_code: null });
    expect(first.data!.provider_reference).toMatch(/^sbx_/);
    const again = await pay(b, order.id);
    expect(again.response.status).toBe(200);
    expect(again.data!.id).toBe(first.data!.id);
    expect(await sql(app, 'select id from payments where order_id = ?', [order.id])).toHaveLength(1);
    const report = await status(b, order.id);
    expect(report).toMatchObject({ order: order.id, order_status: 'paid', payment_status: 'paid', amount_due: '0.00' });
    expect(report.payments).toHaveLength(1);
    const detail = await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } });
    expect(detail.data).toMatchObject({ status: 'paid', payment_status: 'paid', expires_at: null });
    expect(detail.data!.paid_at).not.toBeNull();
  });

  it('records a decline, leaves the order payable, and lets a retry succeed', async () => {
    const { b, order } = await unpaidOrder();
    const declined = await pay(b, order.id, 'tok_decline');
    expect(declined.response.status).toBe(201);
    expect(declined.data).toMatchObject({ status: 'failed', failure_code: 'card_declined' });
    expect(await status(b, order.id)).toMatchObject({ order_status: 'pending_payment', payment_status: 'failed', amount_due: '25.00' });
    const funds = await pay(b, order.id, 'tok_insufficient_funds');
    expect(funds.data!.failure_code).toBe('insufficient_funds');
    const ok = await pay(b, order.id, 'tok_success');
    expect(ok.data!.status).toBe('succeeded');
    const report = await status(b, order.id);
    expect(report.payments.map((p) => p.status)).toEqual(['succeeded', 'failed', 'failed']);
    expect(report.order_status).toBe('paid');
  });

  it('confirms a card that needs confirmation later, through the webhook', async () => {
    const { b, order } = await unpaidOrder();
    const started = await pay(b, order.id, 'tok_requires_confirmation');
    expect(started.data!.status).toBe('pending');
    const report = await eventually(() => status(b, order.id), (r) => r.order_status === 'paid');
    expect(firstOf(report.payments).status).toBe('succeeded');
  });
});

describe('mobile payments', () => {
  it('stay pending until the provider confirms them asynchronously', async () => {
    const { b, order } = await unpaidOrder();
    const started = await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile', phone: '+254700123456' } });
    expect(started.data).toMatchObject({ status: 'pending', method: 'mobile' });
    expect((await pay(b, order.id)).response.status).toBe(200); // the pending payment, not a second charge
    const report = await eventually(() => status(b, order.id), (r) => r.order_status === 'paid');
    expect(report).toMatchObject({ order_status: 'paid', payment_status: 'paid' });
  });

  it('are declined asynchronously for numbers ending in 0000', async () => {
    const { b, order } = await unpaidOrder();
    await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile', phone: '+254700000000' } });
    // The status reads the order, then its payments: wait until both show the webhook's commit.
    const report = await eventually(() => status(b, order.id), (r) => r.payments[0]?.status === 'failed' && r.payment_status === 'failed');
    expect(report).toMatchObject({ order_status: 'pending_payment', payment_status: 'failed' });
    expect(firstOf(report.payments).failure_code).toBe('mobile_declined');
  });
});

describe('the webhook', () => {
  // A provider that never confirms on its own: each test sends the webhook itself.
  let quiet: TestApp;
  let quietShop: Shop;
  beforeAll(async () => {
    quiet = await startApp({ SANDBOX_CONFIRM_MS: '600000' });
    quietShop = await openShop(quiet);
  });
  afterAll(() => quiet.close());

  async function pendingPayment() {
    const p = await product(quiet, quietShop, '25.00', 20);
    const b = await buyer(quiet, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b);
    const payment = (await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile', phone: '+254700999999' } })).data!;
    return { b, order, payment };
  }

  it('applies a signed event once; a repeated delivery changes nothing', async () => {
    const { b, order, payment } = await pendingPayment();
    const event = { id: `evt_${payment.id}_ok`, type: 'payment.succeeded', created: 1, data: { provider_reference: payment.provider_reference } };
    expect(await webhook(quiet, event)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await webhook(quiet, event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    // A later failure event for a settled payment changes nothing either.
    await webhook(quiet, { ...event, id: `evt_${payment.id}_late`, type: 'payment.failed' });
    expect(await status(b, order.id)).toMatchObject({ order_status: 'paid', payment_status: 'paid' });
    expect(firstOf((await status(b, order.id)).payments).status).toBe('succeeded');
  });

  it('refuses a bad, missing, stale or foreign signature with 400 and changes nothing', async () => {
    const { b, order, payment } = await pendingPayment();
    const event = { id: `evt_${payment.id}_forged`, type: 'payment.succeeded', data: { provider_reference: payment.provider_reference } };
    const raw = JSON.stringify(event);
    const old = Math.floor(Date.now() / 1000) - 3600;
    for (const signature of [
      'garbage',
      signWebhook('another-secret-entirely', raw),
      signWebhook(TEST_WEBHOOK_SECRET, raw, old),
      signWebhook(TEST_WEBHOOK_SECRET, raw.replace('succeeded', 'succeeded ')),
    ]) {
      const res = await webhook(quiet, event, signature);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_SIGNATURE');
    }
    const noHeader = await fetch(`${quiet.baseUrl}/api/payment/webhook/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    expect(noHeader.status).toBe(400);
    expect(await status(b, order.id)).toMatchObject({ order_status: 'pending_payment', payment_status: 'pending' });
    expect(await sql(quiet, 'select id from payment_events where id = ?', [event.id])).toHaveLength(0);
  });

  it('refunds a payment that succeeds after its order was cancelled', async () => {
    const { b, order, payment } = await pendingPayment();
    await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    await webhook(quiet, { id: `evt_${payment.id}_late_ok`, type: 'payment.succeeded', data: { provider_reference: payment.provider_reference } });
    // The refund is a job, enqueued with the change: a worker gives the money back.
    const worker = await startTestWorker(quiet);
    try {
      const report = await eventually(() => status(b, order.id), (r) => r.payments[0]?.status === 'refunded', 30_000);
      expect(report.order_status).toBe('cancelled');
      expect(firstOf(report.payments).status).toBe('refunded');
    } finally {
      await worker.stop();
    }
  });
});

describe('refusals', () => {
  it('only pays the caller’s own unpaid orders', async () => {
    const { b, order, variant } = await unpaidOrder();
    const stranger = await actor(app);
    expect((await pay(stranger, order.id)).response.status).toBe(404);
    expect((await stranger.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } })).response.status).toBe(404);
    await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    const cancelled = await pay(b, order.id);
    expect(cancelled.response.status).toBe(409);
    expect(cancelled.error!.code).toBe('ORDER_NOT_PAYABLE');
    expect(await stockOf(app, variant)).toBe(20);
  });

  it('needs the details of the method, and never takes an amount from the client', async () => {
    const { b, order } = await unpaidOrder();
    const card = await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card' } });
    expect(card.response.status).toBe(422);
    expect(card.error!.code).toBe('CARD_TOKEN_REQUIRED');
    const mobile = await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile' } });
    expect(mobile.error!.code).toBe('PHONE_REQUIRED');
    const res = await fetch(`${app.baseUrl}/api/payment/initiate/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.tokens.access}` },
      body: JSON.stringify({ order: order.id, method: 'card', card_token: 'tok_success', amount: '0.01' }),
    });
    expect(res.status).toBe(400);
    expect(await sql(app, 'select id from payments where order_id = ?', [order.id])).toHaveLength(0);
  });

  it('replays a payment for a retried Idempotency-Key', async () => {
    const { b, order } = await unpaidOrder();
    const send = () =>
      b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_decline' }, params: { header: { 'Idempotency-Key': `pay-${order.id}` } } });
    const first = await send();
    const retry = await send();
    expect(retry.data!.id).toBe(first.data!.id);
    expect(await sql(app, 'select id from payments where order_id = ?', [order.id])).toHaveLength(1);
    // The same key with another request is refused, and makes no second payment.
    const other = await b.api.POST('/api/payment/initiate/', {
      body: { order: order.id, method: 'card', card_token: 'tok_success' },
      params: { header: { 'Idempotency-Key': `pay-${order.id}` } },
    });
    expect(other.error).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await sql(app, 'select id from payments where order_id = ?', [order.id])).toHaveLength(1);
  });

  it('answers 409 IDEMPOTENCY_CONFLICT while a request with the same key is still being processed, and pays nothing', async () => {
    const { b, order } = await unpaidOrder();
    const key = `pay-busy-${order.id}`;
    // A request with this key in progress holds its transaction-scoped advisory lock
    // (src/modules/checkout/idempotency.ts); another session holds the same lock here.
    const holder = await session(app.databaseUrl);
    try {
      await holder.query('select pg_advisory_lock(hashtextextended($1, 0))', [`idempotency:${b.user.id}:payment:${key}`]);
      const res = await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' }, params: { header: { 'Idempotency-Key': key } } });
      expect(res.error).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' });
    } finally {
      await holder.end();
    }
    expect(await sql(app, 'select id from payments where order_id = ?', [order.id])).toHaveLength(0);
  });
});
