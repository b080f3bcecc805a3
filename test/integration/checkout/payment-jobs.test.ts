import { JOB_SCHEMA } from '../../../src/jobs/queue';
import type { JobPayloads } from '../../../src/jobs/registry';
import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, placeOrder, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { startTestWorker, type TestWorker, waitForJob } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

/**
 * The payment jobs in one process: voiding what a cancelled order's payment reached, reconciling
 * pending payments with the provider, and purging old Idempotency-Keys. The sandbox here confirms
 * nothing by itself (10 minutes): a test moves the provider's clock by backdating its settle time.
 */
let app: TestApp;
let shop: Shop;
let worker: TestWorker;
beforeAll(async () => {
  app = await startApp({ SANDBOX_CONFIRM_MS: '600000', IDEMPOTENCY_TTL_HOURS: '24' });
  shop = await openShop(app);
  worker = await startTestWorker(app);
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

/** Runs a scheduled job now (if the schedule's own run is queued or running, waits for it instead). */
async function runNow(name: 'payments.reconcile' | 'checkout.purge-idempotency-keys'): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const id = await app.services.jobs.send(app.orm.em.fork(), name, {} as JobPayloads[typeof name]);
    if (id) {
      expect((await waitForJob(app.services.jobs, name, id)).state).toBe('completed');
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} could not be sent`);
}

async function pendingMobilePayment(phone = '+254700123456') {
  const p = await product(app, shop, '7.00', 10);
  const b = await buyer(app, [{ variant: p.variants[0].id }]);
  const order = await placeOrder(b);
  const payment = (await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'mobile', phone } })).data!;
  expect(payment).toMatchObject({ status: 'pending', provider_answered: true });
  return { b, order, payment };
}
const chargeStatus = async (paymentId: number) =>
  firstOf(await sql<{ status: string }>(app, 'select status from sandbox_provider_charges where idempotency_key = ?', [`payment-${paymentId}`])).status;
const report = (b: Awaited<ReturnType<typeof buyer>>, orderId: number) =>
  b.api.GET('/api/payment/{order_id}/status/', { params: { path: { order_id: orderId } } }).then((r) => r.data!);

describe('payments.refund-order', () => {
  it('voids the pending payment of a cancelled order: nothing taken, and the payment and the order say so', async () => {
    const { b, order, payment } = await pendingMobilePayment();
    const cancelled = await b.api.POST('/api/order/{id}/cancel/', { params: { path: { id: order.id } } });
    expect(cancelled.data).toMatchObject({ status: 'cancelled', payment_status: 'pending' });
    const settled = await eventually(() => report(b, order.id), (r) => r.payments[0]?.status !== 'pending', 30_000);
    expect(settled).toMatchObject({ order_status: 'cancelled', payment_status: 'failed', payments: [{ id: payment.id, status: 'failed', failure_code: 'voided' }] });
    expect(await chargeStatus(payment.id)).toBe('voided');
    // The job's effect commits before pg-boss marks the job completed (its own statement): wait for that.
    const jobs = await eventually(
      () => sql<{ state: string }>(app, `select state from ${JOB_SCHEMA}.job where name = 'payments.refund-order' and (data->>'orderId')::int = ?`, [order.id]),
      (rows) => rows.length !== 1 || rows[0]?.state !== 'active',
      30_000,
    );
    expect(jobs).toEqual([{ state: 'completed' }]);
  });
});

describe('payments.reconcile', () => {
  it('asks the provider about a payment whose confirmation never came, and records it once the provider has it', async () => {
    const { b, order, payment } = await pendingMobilePayment();
    // Past the provider timeout, but the customer has not confirmed yet: the provider still says pending.
    await sql(app, `update payments set updated_at = now() - interval '1 hour' where id = ?`, [payment.id]);
    await runNow('payments.reconcile');
    expect(await report(b, order.id)).toMatchObject({ order_status: 'pending_payment', payment_status: 'pending', payments: [{ status: 'pending' }] });

    // The customer confirmed at the provider, and its webhook was lost.
    await sql(app, `update sandbox_provider_charges set settles_at = now() - interval '1 minute' where idempotency_key = ?`, [`payment-${payment.id}`]);
    await runNow('payments.reconcile');
    expect(await report(b, order.id)).toMatchObject({ order_status: 'paid', payment_status: 'paid', payments: [{ id: payment.id, status: 'succeeded', provider_answered: true }] });
    expect(await chargeStatus(payment.id)).toBe('succeeded');
  });

  it('records a decline the same way, and the order can be paid again', async () => {
    const { b, order, payment } = await pendingMobilePayment('+254700000000');
    await sql(app, `update payments set updated_at = now() - interval '1 hour' where id = ?`, [payment.id]);
    await sql(app, `update sandbox_provider_charges set settles_at = now() - interval '1 minute' where idempotency_key = ?`, [`payment-${payment.id}`]);
    await runNow('payments.reconcile');
    expect(await report(b, order.id)).toMatchObject({ order_status: 'pending_payment', payment_status: 'failed', payments: [{ status: 'failed', failure_code: 'mobile_declined' }] });
    const again = await b.api.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } });
    expect(again.response.status).toBe(201);
    expect((await report(b, order.id)).order_status).toBe('paid');
  });
});

describe('checkout.purge-idempotency-keys', () => {
  it('deletes the keys older than IDEMPOTENCY_TTL_HOURS and keeps the others, which still replay', async () => {
    const p = await product(app, shop, '3.00', 10);
    const [old, fresh] = [await buyer(app, [{ variant: p.variants[0].id }]), await buyer(app, [{ variant: p.variants[0].id }])];
    const place = (b: typeof old, key: string) => b.api.POST('/api/order/', { body: { shipping_address: b.address }, params: { header: { 'Idempotency-Key': key } } });
    expect((await place(old, 'purge-old')).response.status).toBe(201);
    const freshOrder = (await place(fresh, 'purge-fresh')).data!;
    await sql(app, `update idempotency_keys set created_at = now() - interval '25 hours' where key = 'purge-old'`);

    await runNow('checkout.purge-idempotency-keys');
    expect(await sql(app, `select key from idempotency_keys where key in ('purge-old', 'purge-fresh') order by key`)).toEqual([{ key: 'purge-fresh' }]);
    const replay = await place(fresh, 'purge-fresh');
    expect(replay.data!.id).toBe(freshOrder.id);
  });
});
