import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, pay, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';
import { killedAt, poll, postWebhook, serversFor } from '../../support/processes';

/**
 * The webhook and the refund of a return when the process is killed (SIGKILL, by an armed
 * failpoint) at their dangerous points: the webhook's record and effect commit together, and the
 * refund is a job committed with the return, keyed at the provider, so it happens exactly once.
 */
// Every test starts real server processes (tsx compiles the app each time): slow on a busy machine.
jest.setTimeout(240_000);

let app: TestApp;
let shop: Shop;
beforeAll(async () => {
  app = await startApp();
  shop = await openShop(app);
});
afterAll(() => app.close());
const server = serversFor(() => app);

const paymentOf = async (orderId: number) =>
  firstOf(await sql<{ id: number; status: string }>(app, 'select id, status from payments where order_id = ? order by id desc limit 1', [orderId]));
const chargeOf = async (paymentId: number) =>
  firstOf(
    await sql<{ status: string; reversed_at: Date | null }>(app, `select status, reversed_at from sandbox_provider_charges where idempotency_key = ?`, [`payment-${paymentId}`]),
  );
const refundJobsOf = (orderId: number) =>
  sql<{ id: string; state: string; retry_count: number }>(
    app,
    `select id, state, retry_count from ${JOB_SCHEMA}.job where name = 'payments.refund-order' and (data->>'orderId')::int = ?`,
    [orderId],
  );

/** A paid order (charged through the sandbox), shipped: the next move may be a return. */
async function shippedOrder() {
  const p = await product(app, shop, '12.50', 10);
  const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
  const order = await placeOrder(b);
  expect((await pay(b, order.id)).data!.status).toBe('succeeded');
  await shop.admin.api.POST('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } }, body: { carrier: 'DHL', tracking_number: `R${order.id}`, status: 'shipped' } });
  return { b, order, variant: p.variants[0].id };
}

describe('the payment webhook', () => {
  it('killed after recording the event: nothing was committed, so the provider’s retry is applied', async () => {
    const p = await product(app, shop, '9.00', 10);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b);
    // The sandbox would confirm in 10 minutes: the test delivers the provider's event itself.
    const armed = await server({ FAILPOINTS: 'payment.webhook.after-record', SANDBOX_CONFIRM_MS: '600000' });
    const payment = (await armed.as(b.tokens.access).POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile', phone: '+254700123456' } })).data!;
    expect(payment).toMatchObject({ status: 'pending', provider_answered: true });
    const event = { id: `evt_crash_${payment.id}`, type: 'payment.succeeded', created: 1, data: { provider_reference: payment.provider_reference } };

    await expect(postWebhook(armed.baseUrl, event)).rejects.toThrow();
    await killedAt(armed, 'payment.webhook.after-record');
    expect(await sql(app, 'select id from payment_events where id = ?', [event.id])).toEqual([]);
    expect((await paymentOf(order.id)).status).toBe('pending');

    const restarted = await server({ SANDBOX_CONFIRM_MS: '600000' });
    // The provider retries the delivery: processed, not a duplicate.
    expect(await postWebhook(restarted.baseUrl, event)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await postWebhook(restarted.baseUrl, event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const report = (await restarted.as(b.tokens.access).GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } })).data!;
    expect(report).toMatchObject({ order_status: 'paid', payment_status: 'paid', payments: [{ id: payment.id, status: 'succeeded' }] });
  });
});

describe('the refund of a returned shipment', () => {
  it('killed right after the return commits: the refund job was committed with it, and refunds once after the restart', async () => {
    const { b, order, variant } = await shippedOrder();
    const paid = await paymentOf(order.id);
    // This process only serves (no worker inside), so nothing else runs before the failpoint.
    const armed = await server({ FAILPOINTS: 'shipment.after-return', WORKER_IN_PROCESS: 'false' });
    await expect(
      armed.as(shop.admin.tokens.access).PATCH('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } }, body: { status: 'returned' } }),
    ).rejects.toThrow();
    await killedAt(armed, 'shipment.after-return');
    // The return, the order's refund and the job are committed together; the money has not moved yet.
    expect(firstOf(await sql<{ status: string; payment_status: string }>(app, 'select status, payment_status from orders where id = ?', [order.id]))).toEqual({
      status: 'refunded',
      payment_status: 'refunded',
    });
    expect((await refundJobsOf(order.id)).map((j) => j.state)).toEqual(['created']);
    expect((await chargeOf(paid.id)).status).toBe('succeeded');
    expect(await stockOf(app, variant)).toBe(10);

    await server();
    const done = await poll(() => refundJobsOf(order.id), (jobs) => jobs.every((j) => j.state === 'completed'), 90_000);
    expect(done.map((j) => j.state)).toEqual(['completed']);
    expect(await paymentOf(order.id)).toEqual({ id: paid.id, status: 'refunded' });
    expect((await chargeOf(paid.id)).status).toBe('refunded');
    const detail = (await app.as(b.tokens.access).GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(detail).toMatchObject({ status: 'refunded', payment_status: 'refunded', shipment: { status: 'returned' } });
  });

  it('a worker killed after the provider refunded, before recording it: the job is retried and the refund is not repeated', async () => {
    const { order } = await shippedOrder();
    const paid = await paymentOf(order.id);
    // Supervision every second: a job whose worker died is retried once its heartbeat is 10 s old.
    const armed = await server({ FAILPOINTS: 'payment.after-reverse', JOBS_SUPERVISE_SECONDS: '1' });
    const returned = await armed.as(shop.admin.tokens.access).PATCH('/api/shipments/{order_id}/', { params: { path: { order_id: order.id } }, body: { status: 'returned' } });
    expect(returned.data!.status).toBe('returned');
    // The process's worker takes the refund job, the provider refunds, and the process dies.
    await killedAt(armed, 'payment.after-reverse');
    const refundedOnce = await chargeOf(paid.id);
    expect(refundedOnce.status).toBe('refunded');
    expect((await paymentOf(order.id)).status).toBe('succeeded');
    expect((await refundJobsOf(order.id)).map((j) => j.state)).toEqual(['active']);

    await server({ JOBS_SUPERVISE_SECONDS: '1' });
    const [job] = await poll(() => refundJobsOf(order.id), (jobs) => jobs[0]?.state === 'completed', 120_000);
    expect(job).toMatchObject({ state: 'completed', retry_count: 1 });
    expect(await paymentOf(order.id)).toEqual({ id: paid.id, status: 'refunded' });
    // Asked again under the same key, the provider answered the refund it had made: no second one.
    expect(await chargeOf(paid.id)).toEqual(refundedOnce);
  });
});
