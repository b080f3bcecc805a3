import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { eventually, openShop, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { deliveriesOf, Receiver, register } from './receiver';

/**
 * A receiver that keeps failing: the last attempt ends the delivery `failed` (and lets the next
 * events of its aggregate go), and a streak of WEBHOOK_DISABLE_AFTER_FAILURES failed attempts
 * disables the endpoint until an admin enables it again.
 */
let app: TestApp;
let shop: Shop;
let worker: TestWorker;
let receiver: Receiver;
beforeAll(async () => {
  // One retry (two attempts per delivery); disabled after 3 failed attempts in a row.
  app = await startApp({ WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_RETRY_LIMIT: '1', WEBHOOK_DISABLE_AFTER_FAILURES: '3' });
  shop = await openShop(app);
  worker = await startTestWorker(app);
  receiver = await Receiver.start();
});
afterAll(async () => {
  await worker.stop();
  await receiver.close();
  await app.close();
});

const rename = (id: number, name: string) => shop.vendor.api.PATCH('/api/product/{id}/', { params: { path: { id } }, body: { name } });
const endpointOf = (id: number) => shop.admin.api.GET('/api/webhook/{id}/', { params: { path: { id } } });

it('ends a delivery failed on its last attempt, and the next event of the aggregate is still delivered', async () => {
  const e = await register(shop.admin, receiver.url, ['product.updated']);
  const p = await product(app, shop);
  receiver.behave = (r) => (r.json.data.name === 'Refused' ? 500 : 200);
  await rename(p.id, 'Refused');
  await rename(p.id, 'Accepted');
  await receiver.until(() => receiver.requests.some((r) => r.answered === 200));
  expect(receiver.requests.map((r) => `${r.json.data.name} ${r.answered}`)).toEqual(['Refused 500', 'Refused 500', 'Accepted 200']);
  const deliveries = await eventually(() => deliveriesOf(app, e.id), (d) => d.every((x) => x.status !== 'pending'), 10_000);
  expect(deliveries.map((d) => [d.status, d.attempts])).toEqual([
    ['failed', 2],
    ['succeeded', 1],
  ]);
  // The failed delivery's job completed (a failed job would hold its key).
  const jobs = await sql<{ state: string }>(app, `select state from ${JOB_SCHEMA}.job where name = 'webhooks.deliver' and (data->>'deliveryId')::int = ?`, [deliveries[0]!.id]);
  expect(jobs.map((j) => j.state)).toEqual(['completed']);
  // The success reset the streak.
  expect((await endpointOf(e.id)).data).toMatchObject({ enabled: true, failure_streak: 0 });
  await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
  receiver.requests.length = 0;
});

it('disables the endpoint after the failure streak, cancels what is pending, and an admin re-enables it', async () => {
  const e = await register(shop.admin, receiver.url, ['product.updated']);
  // Three deliveries of two attempts each: the streak of 3 disables the endpoint while at least one
  // of them still has an attempt left (3 failed plus at most 2 in flight cannot spend all 6).
  const [p1, p2, p3] = await Promise.all([product(app, shop), product(app, shop), product(app, shop)]);
  const names = ['One', 'Two', 'Three'];
  receiver.behave = () => 500;
  await rename(p1.id, names[0]!);
  await rename(p2.id, names[1]!);
  await rename(p3.id, names[2]!);
  const disabled = await eventually(() => endpointOf(e.id), (r) => r.data?.enabled === false, 30_000);
  expect(disabled.data).toMatchObject({ enabled: false, disabled_reason: '3 consecutive failed attempts' });
  expect(disabled.data!.disabled_at).not.toBeNull();
  // Every attempt made is logged (an attempt in flight as the endpoint was disabled, too).
  const sum = (d: { attempts: number }[]) => d.reduce((n, x) => n + x.attempts, 0);
  const ended = await eventually(
    () => deliveriesOf(app, e.id),
    (d) => d.every((x) => x.status !== 'pending') && sum(d) === receiver.requests.length,
    10_000,
  );
  // The third failed attempt disabled it (attempts already in flight then may add one or two);
  // nothing is sent afterwards: what was left ended cancelled.
  const attempts = sum(ended);
  expect([3, 4, 5]).toContain(attempts);
  expect((await endpointOf(e.id)).data!.failure_streak).toBe(attempts);
  expect(ended.map((d) => d.status)).toContain('cancelled');
  expect(receiver.requests).toHaveLength(attempts);

  // While disabled, nothing is recorded for it.
  await rename(p1.id, 'While disabled');
  expect(await deliveriesOf(app, e.id)).toHaveLength(3);

  receiver.behave = () => 200;
  const enabled = await shop.admin.api.PATCH('/api/webhook/{id}/', { params: { path: { id: e.id } }, body: { enabled: true } });
  expect(enabled.data).toMatchObject({ enabled: true, failure_streak: 0, disabled_reason: null });
  // A cancelled delivery can be sent again once enabled.
  const cancelled = ended.find((d) => d.status === 'cancelled')!;
  const again = await shop.admin.api.POST('/api/webhook/{id}/deliveries/{delivery_id}/redeliver/', { params: { path: { id: e.id, delivery_id: cancelled.id } } });
  expect(again.response.status).toBe(202);
  await rename(p1.id, 'After');
  await receiver.until(() => receiver.requests.filter((r) => r.answered === 200).length === 2);
  expect(receiver.requests.filter((r) => r.answered === 200).map((r) => r.json.data.name).sort()).toEqual(['After', names[ended.indexOf(cancelled)]!].sort());
  await shop.admin.api.DELETE('/api/webhook/{id}/', { params: { path: { id: e.id } } });
});
