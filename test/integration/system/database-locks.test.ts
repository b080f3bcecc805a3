import type { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { type MadeProduct, makeCategory, makeProduct } from '../../support/catalog';
import { buyer } from '../../support/checkout';
import { createTestDatabase } from '../../support/database';
import { lockWaiters, queuedFor, session, type Tracked, tracked, until } from '../../support/database-probes';
import { actor, type Actor } from '../../support/factories';
import { gql } from '../../support/graphql';
import { firstOf } from '../../support/narrow';
import { startServingApp } from '../../support/serving-app';

/**
 * One held lock must not stop the API (issue 12): a real lock held from another session, the real
 * app with its serving pools (startServingApp: the configured read pool and bounded waits, short
 * here), real requests. Every wait ends: the lock wait (55P03), the statement (57014), the wait for
 * a pooled connection, each in a documented 503; reads keep their own pool; readiness reports a
 * saturated pool; and everything comes back when the lock goes. No timing is asserted: the tests
 * wait for states PostgreSQL and the pools report (who waits on a lock, who queues for a
 * connection), and the limits only bound how long that takes.
 */

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let setup: TestApp;
let watcher: Client;
let vendor: Actor;
let category: number;
let product: MadeProduct;
let variant: number;

beforeAll(async () => {
  db = await createTestDatabase();
  setup = await startServingApp(db.url);
  const admin = await actor(setup, 'admin');
  vendor = await actor(setup, 'vendor');
  category = (await makeCategory(admin)).id;
  product = await makeProduct(vendor, category, { price: '12.50', stock: 50 });
  variant = product.variants[0].id;
  watcher = await session(db.url);
}, 60_000);

afterAll(async () => {
  await watcher?.end();
  await setup?.close();
  await db?.drop();
});

/** Takes a lock from a session of its own, as another client would, and holds it until released. */
async function hold(lock: string, params: unknown[] = []): Promise<{ release(): Promise<void> }> {
  const holder = await session(db.url);
  await holder.query('begin');
  await holder.query(lock, params);
  return {
    async release() {
      await holder.query('rollback');
      await holder.end();
    },
  };
}
const holdVariantRow = () => hold('select id from product_variants where id = $1 for update', [variant]);
const holdTable = (table: string) => hold(`lock table ${table} in access exclusive mode`);

/** What the SDK answers, as far as these tests look. */
type Answer = { response: Response; error?: unknown };

const patchStock = (app: TestApp, stock: number) => app.as(vendor.tokens.access).PATCH('/api/variant/{id}/', { params: { path: { id: variant } }, body: { stock } });
const readDetail = (app: TestApp): Promise<Answer> => app.api.GET('/api/product/{id}/', { params: { path: { id: product.id } } });
const readList = (app: TestApp): Promise<Answer> => app.api.GET('/api/product/', { params: { query: { category: String(category) } } });
const readTree = (app: TestApp): Promise<Answer> => app.api.GET('/api/category/tree/');
const readVariant = (app: TestApp): Promise<Answer> => app.api.GET('/api/variant/{id}/', { params: { path: { id: variant } } });
const stockNow = async () => firstOf((await watcher.query<{ stock: number }>('select stock from product_variants where id = $1', [variant])).rows).stock;

/** A 503 as the contract documents it: problem+json, the code, and Retry-After. */
function expectUnavailable(answer: Answer, code: 'DATABASE_BUSY' | 'SERVICE_UNAVAILABLE') {
  expect(answer.response.status).toBe(503);
  expect(answer.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.response.headers.get('retry-after')).toBe(code === 'DATABASE_BUSY' ? '2' : '5');
  expect(answer.error).toMatchObject({ status: 503, code });
}

describe('one held lock', () => {
  it('a write that needs a row another transaction holds gets 503 DATABASE_BUSY when the lock wait runs out, and changes nothing', async () => {
    const app = await startServingApp(db.url, { DATABASE_LOCK_TIMEOUT_MS: '300' });
    const before = await stockNow();
    const lock = await holdVariantRow();
    try {
      expectUnavailable(await patchStock(app, before + 1), 'DATABASE_BUSY');
      expect((await readDetail(app)).response.status).toBe(200);
    } finally {
      await lock.release();
      await app.close();
    }
    expect(await stockNow()).toBe(before);
  });

  it('reads have their own statement timeout: a read stuck behind a table lock is 503 DATABASE_BUSY (REST and GraphQL), while a write keeps its longer limits', async () => {
    const app = await startServingApp(db.url, { DATABASE_LOCK_TIMEOUT_MS: '60000', DATABASE_STATEMENT_TIMEOUT_MS: '60000', DATABASE_READ_STATEMENT_TIMEOUT_MS: '300' });
    const lock = await holdTable('products');
    let write: Tracked<Answer> | undefined;
    try {
      write = tracked(patchStock(app, 21));
      expectUnavailable(await readDetail(app), 'DATABASE_BUSY');
      const graph = await gql(app, 'query ($id: Int) { product(id: $id) { id name } }', { id: product.id });
      expect(graph.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'DATABASE_BUSY', status: 503 })]);
      await until('the write to wait on the table', () => lockWaiters(watcher, 'write'), (w) => w.length === 1);
      expect(write.settled()).toBe(false);
    } finally {
      await lock.release();
    }
    expect((await write.promise).response.status).toBe(200);
    expect(await stockNow()).toBe(21);
    await app.close();
  });

  it('writers stuck on a lock take every write connection: queued writes get 503 DATABASE_BUSY, readiness reports the pool saturated, catalog reads keep answering; all recovers when the lock goes', async () => {
    const app = await startServingApp(db.url, {
      DATABASE_POOL_MAX: '2',
      DATABASE_READ_POOL_MAX: '2',
      DATABASE_LOCK_TIMEOUT_MS: '60000',
      DATABASE_ACQUIRE_TIMEOUT_MS: '8000',
    });
    const lock = await holdVariantRow();
    const blockers = [31, 32].map((stock) => tracked(patchStock(app, stock)));
    try {
      await until('both write connections to wait on the lock', () => lockWaiters(watcher, 'write'), (w) => w.length === 2);
      const queued = [33, 34, 35].map((stock) => patchStock(app, stock));
      await until('three writes to queue for a write connection', () => queuedFor(app, 'write'), (n) => n === 3);

      // Stuck, not merely busy: readiness says so once no connection has come or gone for a while.
      const ready = await until('readiness to report the stuck pool', () => app.api.GET('/readyz'), (r) => r.response.status !== 200);
      expectUnavailable(ready, 'DATABASE_BUSY');
      for (const read of await Promise.all([readList(app), readDetail(app), readTree(app), readVariant(app)])) expect(read.response.status).toBe(200);
      expect(blockers.map((b) => b.settled())).toEqual([false, false]);

      for (const answer of await Promise.all(queued)) expectUnavailable(answer, 'DATABASE_BUSY');
    } finally {
      await lock.release();
    }
    expect((await Promise.all(blockers.map((b) => b.promise))).map((r) => r.response.status)).toEqual([200, 200]);
    expect([31, 32]).toContain(await stockNow());
    const recovered = await app.api.GET('/readyz');
    expect(recovered.response.status).toBe(200);
    expect(recovered.data).toEqual({ status: 'ok', checks: { database: 'ok' } });
    expect((await patchStock(app, 50)).response.status).toBe(200);
    await app.close();
  });

  it('placing an order waits for its stock past the session lock timeout (DATABASE_CHECKOUT_LOCK_TIMEOUT_MS), and gets it when the lock goes', async () => {
    const app = await startServingApp(db.url, { DATABASE_LOCK_TIMEOUT_MS: '300', DATABASE_CHECKOUT_LOCK_TIMEOUT_MS: '60000' });
    const shopper = await buyer(app, [{ variant }]);
    const before = await stockNow();
    const lock = await holdVariantRow();
    let order: Tracked<Answer> | undefined;
    try {
      order = tracked(shopper.api.POST('/api/order/', { body: { shipping_address: shopper.address } }));
      // Three times the session's lock timeout, and still waiting: the checkout's own limit applies.
      await until('the checkout to wait for the stock past the session lock timeout', () => lockWaiters(watcher, 'write'), (w) => w.some((x) => x.waitedMs > 900));
      expect(order.settled()).toBe(false);
    } finally {
      await lock.release();
    }
    expect((await order.promise).response.status).toBe(201);
    expect(await stockNow()).toBe(before - 1);
    await app.close();
  });
});

describe('a connection the server ends under a request', () => {
  it.each([
    ['a prepared catalog read (product detail)', 'products', readDetail],
    ['a raw catalog read (the category tree)', 'categories', readTree],
    ['a read the ORM builds (a variant)', 'product_variants', readVariant],
  ] as const)('%s is retried once, on a fresh connection', async (_, table, read) => {
    const app = await startServingApp(db.url, { DATABASE_LOCK_TIMEOUT_MS: '60000', DATABASE_READ_STATEMENT_TIMEOUT_MS: '60000' });
    const lock = await holdTable(table);
    let answer: Tracked<Answer> | undefined;
    try {
      answer = tracked(read(app));
      const [first] = await until('the read to wait on the table', () => lockWaiters(watcher, 'read'), (w) => w.length === 1);
      await watcher.query('select pg_terminate_backend($1)', [first!.pid]);
      // The retry runs on another connection, and waits on the table in its turn.
      await until('the retried read to wait on the table', () => lockWaiters(watcher, 'read'), (w) => w.length === 1 && w[0]!.pid !== first!.pid);
    } finally {
      await lock.release();
    }
    expect((await answer.promise).response.status).toBe(200);
    await app.close();
  });

  it('a write is never retried: 503 SERVICE_UNAVAILABLE, nothing changed, and the next write gets a healthy connection', async () => {
    const app = await startServingApp(db.url, { DATABASE_LOCK_TIMEOUT_MS: '60000' });
    const before = await stockNow();
    const lock = await holdVariantRow();
    try {
      const answer = patchStock(app, before + 5);
      const [waiter] = await until('the write to wait on the row', () => lockWaiters(watcher, 'write'), (w) => w.length === 1);
      await watcher.query('select pg_terminate_backend($1)', [waiter!.pid]);
      expectUnavailable(await answer, 'SERVICE_UNAVAILABLE');
    } finally {
      await lock.release();
    }
    expect(await stockNow()).toBe(before);
    expect((await patchStock(app, before + 5)).response.status).toBe(200);
    expect(await stockNow()).toBe(before + 5);
    await app.close();
  });
});
