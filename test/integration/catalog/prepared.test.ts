import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormOptions } from '../../../src/orm.config';
import { DiscoveryRepository, DiscoveryService, type ProductListInput } from '../../../src/modules/catalog';
import type { PagePicker, PageRequest } from '../../../src/shared/paging';
import { seedCatalog } from '../../../src/seed/catalog';
import { createTestDatabase } from '../../support/database';
import { firstOf } from '../../support/narrow';

/**
 * The catalog's list queries run as named prepared statements when their plan does not depend on
 * the values (DATABASE_PREPARED_STATEMENTS, on by default), and give the same pages as unprepared
 * ones. One pooled connection, so the statements it prepared can be read back.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let orm: MikroORM;
const PUBLIC = {} as const;
const prepared = new DiscoveryService(new DiscoveryRepository(true));
const unprepared = new DiscoveryService(new DiscoveryRepository(false));
/** Exactly this page, as the public sees it. */
const at = (page: PageRequest): PagePicker => () => ({ page, scope: null });
const list = (service: DiscoveryService, em: Parameters<DiscoveryService['discover']>[0], filters: ProductListInput, ordering: ProductListInput['ordering'], page: PageRequest) =>
  service.discover(em, null, { ...filters, ordering }, at(page));

beforeAll(async () => {
  db = await createTestDatabase();
  const client = new Client({ connectionString: db.url });
  await client.connect();
  await seedCatalog(client, { products: 3000, seed: 5 });
  await client.end();
  orm = await MikroORM.init(ormOptions({ clientUrl: db.url, poolMax: 1 }));
}, 120_000);

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

async function statements(): Promise<{ name: string; statement: string }[]> {
  return orm.em.fork().execute(`select name, statement from pg_prepared_statements order by prepare_time`);
}

/** Every page of a list, following the cursors, as ids. */
async function walk(service: DiscoveryService, filters: ProductListInput, ordering: 'price' | '-created_at' | 'name') {
  const pages: number[][] = [];
  let after: (string | number)[] | undefined;
  for (;;) {
    const { slice } = await list(service, orm.em.fork(), filters, ordering, { kind: 'cursor', size: 25, after });
    pages.push(slice.items.map((r) => r.id));
    if (slice.next === null || typeof slice.next === 'number') return pages;
    after = slice.next;
  }
}

describe('prepared list statements', () => {
  it('a category list is prepared once per connection and pages exactly like an unprepared one', async () => {
    const filters: ProductListInput = { ...PUBLIC, category: '1', minPrice: '5.00', maxPrice: '400.00', inStock: true };
    const before = (await statements()).length;
    const pages = await walk(prepared, filters, 'price');
    expect(pages.length).toBeGreaterThan(3);
    expect(pages).toEqual(await walk(unprepared, filters, 'price'));
    const added = (await statements()).slice(before);
    // Page one (no cursor) and the pages after a cursor: two statement texts, each prepared once.
    expect(added).toHaveLength(2);
    for (const s of added) {
      expect(s.name).toMatch(/^q_[0-9a-f]{24}$/);
      expect(s.statement).toContain('cross join lateral');
      expect(s.statement).not.toContain('?');
    }
  });

  it('the whole catalog, newest first, is prepared too', async () => {
    const before = (await statements()).length;
    const pages = await walk(prepared, PUBLIC, '-created_at');
    expect(pages.flat()).toEqual((await walk(unprepared, PUBLIC, '-created_at')).flat());
    expect((await statements()).length).toBe(before + 2);
  });

  it('a product detail is prepared too', async () => {
    const { id } = firstOf(await orm.em.fork().execute<{ id: number }[]>(`select id from products where is_active order by id limit 1`));
    const before = (await statements()).length;
    const detail = await prepared.get(orm.em.fork(), null, id);
    expect(detail.id).toBe(id);
    expect(detail).toEqual(await unprepared.get(orm.em.fork(), null, id));
    const added = (await statements()).slice(before);
    expect(added).toHaveLength(1);
    expect(firstOf(added).statement).toContain('where p.id = $1');
  });

  it('value-dependent filters, numbered pages and lists inside a transaction are not prepared', async () => {
    const before = await statements();
    const brand = firstOf(await orm.em.fork().execute<{ brand: string }[]>(`select brand from products group by brand order by count(*) desc limit 1`)).brand;
    const byBrand = await list(prepared, orm.em.fork(), { ...PUBLIC, brands: [brand] }, 'price', { kind: 'cursor', size: 10 });
    expect(byBrand.slice.items.length).toBe(10);
    expect(byBrand.slice.items.every((r) => r.brand === brand)).toBe(true);
    const numbered = await list(prepared, orm.em.fork(), { ...PUBLIC, category: '1' }, 'name', { kind: 'page', size: 10, page: 2 });
    expect(numbered.slice.items.length).toBe(10);
    const inTransaction = await orm.em.fork().transactional((em) => list(prepared, em, { ...PUBLIC, category: '2' }, 'name', { kind: 'cursor', size: 10 }));
    expect(inTransaction.slice.items.length).toBeGreaterThan(0);
    expect(await statements()).toEqual(before);
  });
});
