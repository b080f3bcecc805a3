import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { buyer, openShop, pay, placeOrder, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';
import { killedAt, poll, serversFor } from '../../support/processes';

/**
 * The refund of a return when the process is killed (SIGKILL, by an armed failpoint) around the
 * provider call: the refund and its job commit together, and the provider is asked under the
 * refund's key, so the money goes back exactly once.
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

const refundJobsOf = (refundId: number) =>
  sql<{ id: string; state: string; retry_count: number }>(app, `select id, state, retry_count from ${JOB_SCHEMA}.job where name = 'payments.refund' and (data->>'refundId')::int = ?`, [
    refundId,
  ]);
const refundRow = async (orderId: number) => firstOf(await sql<{ id: number; status: string }>(app, 'select id, status from refunds where order_id = ?', [orderId]));
const sandboxRefunds = (refundId: number) => sql<{ amount: string }>(app, 'select amount from sandbox_provider_refunds where refund_key = ?', [`refund-${refundId}`]);

/** A delivered order of 2 units with a received return of 1 (through the in-process app). */
async function receivedReturn() {
  const p = await product(app, shop, '12.50', 10);
  const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
  const order = await placeOrder(b);
  expect((await pay(b, order.id)).data!.status).toBe('succeeded');
  const path = { order_id: order.id };
  await shop.admin.api.POST('/api/shipments/{order_id}/', { params: { path }, body: { carrier: 'DHL', tracking_number: `C${order.id}`, status: 'shipped' } });
  await shop.admin.api.PATCH('/api/shipments/{order_id}/', { params: { path }, body: { status: 'delivered' } });
  const r = (await b.api.POST('/api/order/{id}/returns/', { params: { path: { id: order.id } }, body: { items: [{ order_item: firstOf(order.items).id, quantity: 1 }], reason: 'Broken' } })).data!;
  await shop.admin.api.POST('/api/return/{id}/approve/', { params: { path: { id: r.id } } });
  await shop.admin.api.POST('/api/return/{id}/receive/', { params: { path: { id: r.id } } });
  return { b, order, r };
}

describe('the refund job of a return', () => {
  it('killed after the refund and its job committed, before the provider was asked: refunds once after the restart', async () => {
    const { b, order, r } = await receivedReturn();
    const armed = await server({ FAILPOINTS: 'refund.before-provider', JOBS_SUPERVISE_SECONDS: '1' });
    const refunded = await armed.as(shop.admin.tokens.access).POST('/api/return/{id}/refund/', { params: { path: { id: r.id } } });
    expect(refunded.data).toMatchObject({ status: 'refunded', refund: { status: 'requested' } });
    await killedAt(armed, 'refund.before-provider');
    const refund = await refundRow(order.id);
    expect(refund.status).toBe('requested');
    expect(await sandboxRefunds(refund.id)).toEqual([]);

    await server({ JOBS_SUPERVISE_SECONDS: '1' });
    const [job] = await poll(() => refundJobsOf(refund.id), (jobs) => jobs[0]?.state === 'completed', 120_000);
    expect(job).toMatchObject({ state: 'completed' });
    expect(await refundRow(order.id)).toEqual({ id: refund.id, status: 'succeeded' });
    expect(await sandboxRefunds(refund.id)).toEqual([{ amount: String(Math.round(Number(r.amount) * 100)) }]);
    const detail = (await app.as(b.tokens.access).GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!;
    expect(detail).toMatchObject({ payment_status: 'partially_refunded', refunded_total: r.amount });
  });

  it('killed after the provider refunded, before recording it: the job is retried and the provider answers the same refund', async () => {
    const { order, r } = await receivedReturn();
    const armed = await server({ FAILPOINTS: 'refund.after-provider', JOBS_SUPERVISE_SECONDS: '1' });
    expect((await armed.as(shop.admin.tokens.access).POST('/api/return/{id}/refund/', { params: { path: { id: r.id } } })).data!.status).toBe('refunded');
    await killedAt(armed, 'refund.after-provider');
    const refund = await refundRow(order.id);
    expect(refund.status).toBe('requested');
    expect(await sandboxRefunds(refund.id)).toHaveLength(1);

    await server({ JOBS_SUPERVISE_SECONDS: '1' });
    const [job] = await poll(() => refundJobsOf(refund.id), (jobs) => jobs[0]?.state === 'completed', 120_000);
    expect(job).toMatchObject({ state: 'completed', retry_count: 1 });
    expect(await refundRow(order.id)).toEqual({ id: refund.id, status: 'succeeded' });
    // Asked again under the same key, the provider answered the refund it had made: no second one.
    expect(await sandboxRefunds(refund.id)).toHaveLength(1);
    expect(
      firstOf(await sql<{ refunded_amount: string }>(app, `select refunded_amount from sandbox_provider_charges c join payments p on c.idempotency_key = 'payment-' || p.id where p.order_id = ?`, [order.id]))
        .refunded_amount,
    ).toBe(String(Math.round(Number(r.amount) * 100)));
  });
});
