import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { DiscoveryRepository, DiscoveryService } from '../../../src/modules/catalog';
import { ormOptions } from '../../../src/orm.config';
import { seedCatalog } from '../../../src/seed/catalog';
import type { PagePicker } from '../../../src/shared/paging';
import type { TestApp } from '../../support/app';
import { createTestDatabase } from '../../support/database';
import { firstOf } from '../../support/narrow';
import { startServingApp } from '../../support/serving-app';
import { countStatements } from '../../support/statements';

/**
 * The serving pools (src/db/pools.ts): reads outside a transaction on a pool of their own, each
 * pool's sessions with their own timeouts and name, set when they connect (no statement per
 * request), and the catalog's prepared statements still prepared, on the read pool. One
 * connection per pool, so what a session prepared can be read back from it.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let orm: MikroORM;
const limits = { readPoolMax: 1, acquireTimeoutMs: 5000, lockTimeoutMs: 3000, statementTimeoutMs: 15000, readStatementTimeoutMs: 10000 };
const SESSION = `select current_setting('application_name') as app, current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`;

beforeAll(async () => {
  db = await createTestDatabase();
  const client = new Client({ connectionString: db.url });
  await client.connect();
  await seedCatalog(client, { products: 600, seed: 3 });
  await client.end();
  orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 1, limits }));
}, 120_000);

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('the read pool', () => {
  it("gives each pool's sessions their own statement timeout, the lock timeout and a name", async () => {
    expect(firstOf(await orm.em.fork().execute(SESSION))).toEqual({ app: 'ecommerce-backend:read', statement: '10s', lock: '3s' });
    expect(firstOf(await orm.em.fork().transactional((tx) => tx.execute(SESSION)))).toEqual({ app: 'ecommerce-backend:write', statement: '15s', lock: '3s' });
  });

  it('takes the raw statements that only read; writes, locking reads and transactions stay on the write pool', async () => {
    const app = (rows: { app: string }[]) => firstOf(rows).app;
    const em = orm.em.fork();
    expect(app(await em.execute(`select current_setting('application_name') as app from products limit 1`))).toBe('ecommerce-backend:read');
    expect(app(await em.execute(`update products set name = name where id = (select min(id) from products) returning current_setting('application_name') as app`))).toBe(
      'ecommerce-backend:write',
    );
    expect(app(await em.execute(`select current_setting('application_name') as app from products order by id limit 1 for update`))).toBe('ecommerce-backend:write');
    expect(app(await em.transactional((tx) => tx.execute(`select current_setting('application_name') as app`)))).toBe('ecommerce-backend:write');
  });

  it("prepares the catalog's list statements on the read pool, and pages as before", async () => {
    const prepared = new DiscoveryService(new DiscoveryRepository(true));
    const unprepared = new DiscoveryService(new DiscoveryRepository(false));
    const onRead = () => orm.em.fork().execute<{ name: string }[]>(`select name from pg_prepared_statements`);
    const onWrite = () => orm.em.fork().transactional((tx) => tx.execute<{ name: string }[]>(`select name from pg_prepared_statements`));
    const before = (await onRead()).length;
    const firstPage: PagePicker = () => ({ page: { kind: 'cursor', size: 25 }, scope: null });
    const list = (service: DiscoveryService) => service.discover(orm.em.fork(), null, { category: '1', ordering: '-created_at' }, firstPage);
    const [a, b] = [await list(prepared), await list(unprepared)];
    expect(a.slice.items.map((p) => p.id)).toEqual(b.slice.items.map((p) => p.id));
    expect(a.slice.items.length).toBeGreaterThan(0);
    const added = (await onRead()).slice(before);
    expect(added).toHaveLength(1);
    expect(firstOf(added).name).toMatch(/^q_[0-9a-f]{24}$/);
    expect(await onWrite()).toEqual([]);
  });
});

describe('through the app', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startServingApp(db.url);
  });
  afterAll(() => app?.close());

  it('a product detail is still one statement: the sessions were set up when they connected', async () => {
    const { id } = firstOf(await orm.em.fork().execute<{ id: number }[]>(`select id from products where is_active order by id limit 1`));
    const { result, statements } = await countStatements(app, () => fetch(`${app.baseUrl}/api/product/${id}/`));
    expect(result.status).toBe(200);
    expect(statements).toHaveLength(1);
  });
});
