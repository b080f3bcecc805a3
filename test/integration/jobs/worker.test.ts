import { LogMailer, sendMailJob } from '../../../src/jobs/mail';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { startTestWorker, testLogger, waitForJob, type TestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let vendor: Actor;
let category: number;

beforeAll(async () => {
  app = await startApp({ CART_EXPIRY_CRON: '*/10 * * * *', CART_TTL_DAYS: '30' });
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

describe('the worker', () => {
  let running: TestWorker;
  beforeAll(async () => {
    running = await startTestWorker(app);
  });
  afterAll(() => running.stop());

  it('registers the schedules of the registry, with the cron from the configuration', async () => {
    const schedules = await running.queue.schedules();
    expect(schedules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'carts.expire-abandoned', cron: '*/10 * * * *', timezone: 'UTC' }),
        expect.objectContaining({ name: 'jobs.prune-effects', cron: '17 3 * * *' }),
        expect.objectContaining({ name: 'orders.expire-unpaid', cron: '*/5 * * * *' }),
        expect.objectContaining({ name: 'payments.reconcile', cron: '* * * * *' }),
        expect.objectContaining({ name: 'checkout.purge-idempotency-keys', cron: '41 * * * *' }),
        expect.objectContaining({ name: 'webhooks.prune', cron: '23 4 * * *' }),
      ]),
    );
    expect(schedules).toHaveLength(6);
  });

  it('removes a schedule the registry no longer lists when a worker starts', async () => {
    await running.queue.schedule('mail.send', '0 0 * * *', { to: 'x@example.com', subject: 'daily', text: 'no longer wanted' });
    expect((await running.queue.schedules()).map((s) => s.name)).toContain('mail.send');
    const another = await startTestWorker(app);
    await another.stop();
    expect((await running.queue.schedules()).map((s) => s.name).sort()).toEqual([
      'carts.expire-abandoned',
      'checkout.purge-idempotency-keys',
      'jobs.prune-effects',
      'orders.expire-unpaid',
      'payments.reconcile',
      'webhooks.prune',
    ]);
  });

  describe('carts.expire-abandoned', () => {
    /** A customer with a cart holding one line; its last change backdated by `daysAgo` (time passing). */
    async function cartChanged(daysAgo: number): Promise<{ user: Actor; cartId: number }> {
      const user = await actor(app);
      const product = await makeProduct(vendor, category, { price: '4.00', stock: 10 });
      const { data } = await user.api.POST('/api/cart/add/', { body: { variant: product.variants[0].id, quantity: 2 } });
      if (daysAgo) await sql(app, `update carts set updated_at = now() - make_interval(days => ?) where id = ?`, [daysAgo, data!.id]);
      return { user, cartId: data!.id };
    }

    async function runExpiry(): Promise<void> {
      const id = await app.orm.em.fork().transactional((tx) => app.services.jobs.send(tx, 'carts.expire-abandoned', {}));
      expect((await waitForJob(app.services.jobs, 'carts.expire-abandoned', id!)).state).toBe('completed');
    }

    async function existing(ids: number[]): Promise<number[]> {
      const rows = await sql<{ id: number }>(app, 'select id from carts where id in (?) order by id', [ids]);
      return rows.map((r) => r.id);
    }

    it('deletes the carts (and lines) nobody changed for CART_TTL_DAYS, and running it again is harmless', async () => {
      const stale = [await cartChanged(31), await cartChanged(400)];
      const live = [await cartChanged(29), await cartChanged(0)];
      const all = [...stale, ...live].map((c) => c.cartId);

      await runExpiry();
      expect(await existing(all)).toEqual(live.map((c) => c.cartId).sort((a, b) => a - b));
      const lines = firstOf(await sql<{ n: number }>(app, 'select count(*)::int as n from cart_items where cart_id in (?)', [stale.map((c) => c.cartId)]));
      expect(lines.n).toBe(0);

      await runExpiry();
      expect(await existing(all)).toEqual(live.map((c) => c.cartId).sort((a, b) => a - b));
      const kept = (await firstOf(live).user.api.GET('/api/cart/')).data!;
      expect(kept).toMatchObject({ id: firstOf(live).cartId, item_count: 2 });
      // The owner of an expired cart simply gets a new, empty one.
      const fresh = (await firstOf(stale).user.api.GET('/api/cart/')).data!;
      expect(fresh).toMatchObject({ item_count: 0, items: [] });
      expect(fresh.id).not.toBe(firstOf(stale).cartId);
    });
  });

  it('mail.send delivers the message once through the log transport, under a Message-ID made from the job id', async () => {
    const mailer = running.mailer as LogMailer;
    const before = mailer.sent.length;
    const id = await app.orm.em.fork().transactional((tx) =>
      app.services.jobs.send(tx, 'mail.send', { to: 'ada@example.com', subject: 'Your order 1001', text: 'Thank you.' }),
    );
    expect((await waitForJob(app.services.jobs, 'mail.send', id!)).state).toBe('completed');
    expect(mailer.sent.slice(before)).toEqual([
      expect.objectContaining({ to: 'ada@example.com', subject: 'Your order 1001', text: 'Thank you.', from: 'no-reply@localhost', messageId: `<${id}@localhost>` }),
    ]);
  });
});

describe('mail.send retried after the message went out', () => {
  it('does not send it again', async () => {
    // The worker "dies" after the send on the first attempt (the send is recorded, the job is not completed).
    const mailer = new LogMailer(app.config.mail.from, testLogger());
    const send = sendMailJob(mailer, app.config.mail.from);
    const running = await startTestWorker(app, {
      mailer,
      retryDelay: 1,
      handlers: {
        'mail.send': async (message, job) => {
          await send(message, job);
          if (job.retryCount === 0) throw new Error('worker lost before completing the job');
        },
      },
    });
    try {
      const id = await app.orm.em.fork().transactional((tx) =>
        app.services.jobs.send(tx, 'mail.send', { to: 'bob@example.com', subject: 'Shipped', text: 'On its way.' }),
      );
      const done = await waitForJob(app.services.jobs, 'mail.send', id!);
      expect(done).toMatchObject({ state: 'completed', retryCount: 1 });
      expect(mailer.sent.filter((m) => m.messageId === `<${id}@localhost>`)).toHaveLength(1);
      expect(await sql(app, 'select effect from job_effects where job_id = ?', [id])).toEqual([{ effect: 'mail.sent' }]);
    } finally {
      await running.stop();
    }
  });
});
