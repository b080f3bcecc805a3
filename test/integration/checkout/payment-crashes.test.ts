import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';
import { killedAt, poll, type ServerProcess, serversFor } from '../../support/processes';

/**
 * Paying an order when the server process is killed (SIGKILL, by an armed failpoint) between its
 * steps: the payment is recorded before the provider is called and the charge is keyed by it, so
 * after a restart the provider is asked what became of it, and the order ends paid, or cancelled
 * with the money back, with exactly one charge. The provider is the sandbox, whose ledger survives
 * our process like a real provider's records.
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

async function unpaidOrder(total = '30.00') {
  const p = await product(app, shop, total, 10);
  const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
  return { b, order: await placeOrder(b), variant: p.variants[0].id };
}

const paymentsOf = (orderId: number) =>
  sql<{ id: number; status: string; provider_answered: boolean; failure_code: string | null }>(
    app,
    'select id, status, provider_answered, failure_code from payments where order_id = ? order by id',
    [orderId],
  );
/** The sandbox provider's records of the order's charges (keyed by our payment ids). */
const chargesOf = (orderId: number) =>
  sql<{ idempotency_key: string; status: string }>(
    app,
    `select c.idempotency_key, c.status from sandbox_provider_charges c join payments p on c.idempotency_key = 'payment-' || p.id where p.order_id = ? order by p.id`,
    [orderId],
  );
/** Time passes: the payment's last change is an hour old, far past the provider timeout. */
const backdatePayments = (orderId: number) => sql(app, `update payments set updated_at = now() - interval '1 hour' where order_id = ?`, [orderId]);

describe('a server killed while paying', () => {
  it('after the provider charged: the charge is found, never repeated, and pays the order (same key, or a new one with another method)', async () => {
    const { b, order } = await unpaidOrder();
    const armed = await server({ FAILPOINTS: 'payment.after-charge' });
    const pay = (s: ServerProcess, key: string, body: { method: 'card'; card_token: string } | { method: 'mobile'; phone: string }) =>
      s.as(b.tokens.access).POST('/api/payment/initiate/', { body: { order: order.id, ...body }, params: { header: { 'Idempotency-Key': key } } });
    await expect(pay(armed, 'first-try', { method: 'card', card_token: 'tok_success' })).rejects.toThrow();
    await killedAt(armed, 'payment.after-charge');

    // The provider charged; we never recorded its answer.
    const [stuck] = await paymentsOf(order.id);
    expect(stuck).toMatchObject({ status: 'pending', provider_answered: false });
    expect(await chargesOf(order.id)).toEqual([{ idempotency_key: `payment-${stuck!.id}`, status: 'succeeded' }]);

    // A provider timeout of 10 minutes: nothing reconciles the payment until the test lets time pass.
    const restarted = await server({ PAYMENT_PROVIDER_TIMEOUT_MS: '600000' });
    const visible = (await restarted.as(b.tokens.access).GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } })).data!;
    expect(visible).toMatchObject({ order_status: 'pending_payment', payment_status: 'pending', payments: [{ id: stuck!.id, status: 'pending', provider_answered: false }] });

    await backdatePayments(order.id);
    // The client retries with the same key: the payment is reconciled first, then answered.
    const retried = await pay(restarted, 'first-try', { method: 'card', card_token: 'tok_success' });
    expect(retried.response.status).toBe(200);
    expect(retried.data).toMatchObject({ id: stuck!.id, status: 'succeeded', provider_answered: true });
    // Another key and another method: the order is paid, nothing is charged again.
    const other = await pay(restarted, 'second-try', { method: 'mobile', phone: '+254700123456' });
    expect(other.response.status).toBe(200);
    expect(other.data).toMatchObject({ id: stuck!.id, status: 'succeeded' });

    const report = (await restarted.as(b.tokens.access).GET('/api/payment/{order_id}/status/', { params: { path: { order_id: order.id } } })).data!;
    expect(report).toMatchObject({ order_status: 'paid', payment_status: 'paid', amount_due: '0.00' });
    expect(await paymentsOf(order.id)).toEqual([{ id: stuck!.id, status: 'succeeded', provider_answered: true, failure_code: null }]);
    expect(await chargesOf(order.id)).toEqual([{ idempotency_key: `payment-${stuck!.id}`, status: 'succeeded' }]);
  });

  it('before the provider was called: the reconciliation job finds no charge, the attempt fails, and paying again charges once', async () => {
    const { b, order } = await unpaidOrder();
    const armed = await server({ FAILPOINTS: 'payment.before-charge' });
    await expect(armed.as(b.tokens.access).POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } })).rejects.toThrow();
    await killedAt(armed, 'payment.before-charge');
    const [stuck] = await paymentsOf(order.id);
    expect(stuck).toMatchObject({ status: 'pending', provider_answered: false });
    expect(await chargesOf(order.id)).toEqual([]);

    const restarted = await server();
    await backdatePayments(order.id);
    // The scheduled reconciliation, sent now rather than at the next minute (the schedule's own run may come first).
    const resolved = await poll(
      async () => {
        await app.services.jobs.send(app.orm.em.fork(), 'payments.reconcile', {});
        return firstOf(await paymentsOf(order.id));
      },
      (p) => p.status !== 'pending',
      90_000,
      2_000,
    );
    expect(resolved).toEqual({ id: stuck!.id, status: 'failed', provider_answered: true, failure_code: 'not_processed' });
    // The key is closed at the provider: a charge still on its way under it would be declined.
    expect(await chargesOf(order.id)).toEqual([{ idempotency_key: `payment-${stuck!.id}`, status: 'closed' }]);
    const customer = restarted.as(b.tokens.access);
    expect((await customer.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data).toMatchObject({ status: 'pending_payment', payment_status: 'failed' });

    const again = await customer.POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } });
    expect(again.response.status).toBe(201);
    expect(again.data).toMatchObject({ status: 'succeeded', provider_answered: true });
    expect((await customer.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data).toMatchObject({ status: 'paid', payment_status: 'paid' });
    expect((await chargesOf(order.id)).map((c) => c.status)).toEqual(['closed', 'succeeded']);
  });

  it('after the provider charged, and the order expires first: the order is cancelled and the charge refunded', async () => {
    const { b, order, variant } = await unpaidOrder();
    expect(await stockOf(app, variant)).toBe(8);
    const armed = await server({ FAILPOINTS: 'payment.after-charge' });
    await expect(armed.as(b.tokens.access).POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } })).rejects.toThrow();
    await killedAt(armed, 'payment.after-charge');
    const [stuck] = await paymentsOf(order.id);

    // A provider timeout of 10 minutes: nothing reconciles the payment before the order expires.
    const restarted = await server({ PAYMENT_PROVIDER_TIMEOUT_MS: '600000' });
    // Time passes: the payment window ends and the order's expiry job comes due.
    await sql(app, `update orders set expires_at = now() - interval '1 second' where id = ?`, [order.id]);
    await sql(app, `update ${JOB_SCHEMA}.job set start_after = now() where name = 'orders.expire' and (data->>'orderId')::int = ?`, [order.id]);

    const refunded = await poll(() => paymentsOf(order.id), (ps) => ps[0]?.status === 'refunded', 90_000);
    expect(refunded).toEqual([{ id: stuck!.id, status: 'refunded', provider_answered: true, failure_code: null }]);
    expect(await chargesOf(order.id)).toEqual([{ idempotency_key: `payment-${stuck!.id}`, status: 'refunded' }]);
    const detail = (await restarted.as(b.tokens.access).GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(detail).toMatchObject({ status: 'cancelled', payment_status: 'refunded' });
    expect(await stockOf(app, variant)).toBe(10);
    // Paying the cancelled order is refused; nothing else was charged.
    const late = await restarted.as(b.tokens.access).POST('/api/payment/initiate/', { body: { order: order.id, method: 'card', card_token: 'tok_success' } });
    expect(late.error).toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    expect(await chargesOf(order.id)).toHaveLength(1);
  });
});
