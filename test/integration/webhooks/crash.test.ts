import { JOB_SCHEMA } from '../../../src/jobs/queue';
import { startApp, type TestApp } from '../../support/app';
import { openShop, product, type Shop } from '../../support/checkout';
import { sql } from '../../support/factories';
import { poll, serversFor } from '../../support/processes';
import { deliveriesOf, Receiver, register, verify } from './receiver';

/**
 * A worker process killed (SIGKILL) while its delivery is in flight loses nothing: the job was
 * committed with the change, its heartbeat stops, and another worker sends it again with the same
 * webhook-id.
 */
// Real server processes (tsx compiles the app each time): slow on a busy machine.
jest.setTimeout(240_000);

let app: TestApp;
let shop: Shop;
let receiver: Receiver;
beforeAll(async () => {
  // This process only serves (no worker): the deliveries are sent in the test's worker processes.
  app = await startApp({ WEBHOOK_RETRY_DELAY_SECONDS: '1' });
  shop = await openShop(app);
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver.close();
  await app.close();
});
const server = serversFor(() => app);

const jobsOf = (deliveryId: number) =>
  sql<{ state: string; retry_count: number }>(app, `select state, retry_count from ${JOB_SCHEMA}.job where name = 'webhooks.deliver' and (data->>'deliveryId')::int = ?`, [deliveryId]);

it('a worker killed mid-delivery: a new worker delivers it, with the same webhook-id', async () => {
  const e = await register(shop.admin, receiver.url, ['product.created']);
  // The first request is held: the worker is killed while it waits for the answer.
  receiver.behave = (_r, i) => (i === 0 ? 'hold' : 200);
  // Supervision every second: a job whose worker died is retried once its heartbeat is 10 s old.
  const first = await server({ JOBS_SUPERVISE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '120000' });
  const p = await product(app, shop);
  await receiver.until(() => receiver.requests.length === 1, 90_000);
  const exit = await first.stop('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');

  const [delivery] = await deliveriesOf(app, e.id);
  expect(delivery).toMatchObject({ status: 'pending', attempts: 0 });
  expect((await jobsOf(delivery!.id)).map((j) => j.state)).toEqual(['active']);

  await server({ JOBS_SUPERVISE_SECONDS: '1' });
  const done = await poll(() => deliveriesOf(app, e.id), (d) => d[0]?.status === 'succeeded', 120_000);
  expect(done[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(receiver.requests).toHaveLength(2);
  const [lost, delivered] = receiver.requests;
  expect(delivered!.headers['webhook-id']).toBe(lost!.headers['webhook-id']);
  expect(verify(e.secret, delivered!)).toMatchObject({ type: 'product.created', data: { id: p.id } });
  expect((await jobsOf(delivery!.id)).map((j) => [j.state, j.retry_count])).toEqual([['completed', 1]]);
});
