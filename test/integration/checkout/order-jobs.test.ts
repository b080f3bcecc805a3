import { JOB_SCHEMA } from '../../../src/jobs/queue';
import type { LogMailer } from '../../../src/jobs/mail';
import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, pay, placeOrder, product, type Shop, stockOf } from '../../support/checkout';
import { sql } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

/** The jobs an order enqueues, in its own transaction, and what the worker does with them. */
let app: TestApp;
let shop: Shop;
let worker: TestWorker;
beforeAll(async () => {
  app = await startApp({ PAYMENT_WINDOW_MINUTES: '30' });
  shop = await openShop(app);
  worker = await startTestWorker(app);
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

const jobsFor = (name: string, orderId?: number) =>
  sql<{ id: string; state: string; start_after: Date | string }>(
    app,
    `select id, state, start_after from ${JOB_SCHEMA}.job where name = ? ${orderId === undefined ? '' : `and (data->>'orderId')::int = ${orderId}`}`,
    [name],
  );
const mails = () => (worker.mailer as LogMailer).sent;

describe('order jobs', () => {
  it('schedules the order’s expiry for the end of its payment window, and mails the buyer', async () => {
    const p = await product(app, shop, '4.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b);
    const expiry = firstOf(await jobsFor('orders.expire', order.id));
    expect(expiry.state).toBe('created');
    expect(Math.abs(new Date(expiry.start_after).getTime() - Date.parse(order.expires_at!))).toBeLessThan(1000);
    const mail = await eventually(async () => mails().find((m) => m.to === b.user.email && m.subject.startsWith('Order #')), (m) => m !== undefined, 15_000);
    expect(mail!.subject).toBe(`Order #${order.id} received`);
    expect(mail!.text).toContain('4.00 USD');
  });

  it('expires an unpaid order when its job comes due: cancelled, stock back, buyer told', async () => {
    const p = await product(app, shop, '4.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id, quantity: 2 }]);
    const order = await placeOrder(b);
    expect(await stockOf(app, p.variants[0].id)).toBe(3);
    // Time passes: the window ends and the job comes due.
    await sql(app, `update orders set expires_at = now() - interval '1 second' where id = ?`, [order.id]);
    await sql(app, `update ${JOB_SCHEMA}.job set start_after = now() where name = 'orders.expire' and (data->>'orderId')::int = ?`, [order.id]);
    const detail = await eventually(
      async () => (await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!,
      (o) => o.status === 'cancelled',
      15_000,
    );
    expect(detail.status).toBe('cancelled');
    expect(await stockOf(app, p.variants[0].id)).toBe(5);
    await eventually(async () => mails().some((m) => m.subject === `Order #${order.id} was cancelled`), (v) => v, 15_000);
  });

  it('leaves a paid order alone when its expiry job runs', async () => {
    const p = await product(app, shop, '4.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const order = await placeOrder(b);
    await pay(b, order.id);
    await sql(app, `update ${JOB_SCHEMA}.job set start_after = now() where name = 'orders.expire' and (data->>'orderId')::int = ?`, [order.id]);
    await eventually(async () => firstOf(await jobsFor('orders.expire', order.id)).state, (s) => s === 'completed', 15_000);
    expect((await b.api.GET('/api/order/{id}/', { params: { path: { id: order.id } } })).data!.status).toBe('paid');
    expect(await stockOf(app, p.variants[0].id)).toBe(4);
    await eventually(async () => mails().some((m) => m.subject === `Order #${order.id} is paid`), (v) => v, 15_000);
  });

  it('enqueues nothing when checkout fails and its transaction rolls back', async () => {
    const p = await product(app, shop, '4.00', 1);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    const c = await buyer(app, [{ variant: p.variants[0].id }]);
    await placeOrder(b);
    const before = (await jobsFor('orders.expire')).length;
    expect((await c.api.POST('/api/order/', { body: { shipping_address: c.address } })).response.status).toBe(409);
    expect((await jobsFor('orders.expire')).length).toBe(before);
  });
});
