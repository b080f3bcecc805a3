import { Client } from 'pg';
import {
  type DiscoveryFilters,
  type ProductOrdering,
  type ProductRow,
  productListQuery,
  sortKeyOf,
} from '../../../src/modules/catalog/discovery.sql';
import { toPgPlaceholders } from '../../../src/db/prepared';
import type { PageRequest as PageSpec } from '../../../src/shared/paging';
import { seedCatalog } from '../../../src/seed/catalog';
import { createTestDatabase } from '../../support/database';
import { firstOf, lastOf } from '../../support/narrow';

/**
 * The discovery plans on a catalog large enough for the planner to prefer a sequential scan and a
 * sort whenever the indexes do not fit the query: no sequential scan of products, and no sort of
 * more than (categories of the subtree × (page size + 1)) estimated rows, i.e. never a sort of the
 * whole matching set (except for ranking search results, which come from the GIN indexes).
 */
const PRODUCTS = 60_000;
const SIZE = 20;
const PUBLIC = { visibility: { kind: 'public' } } as const;
const ORDERINGS: ProductOrdering[] = ['price', '-price', 'created_at', '-created_at', 'name', '-name', '-rating'];
// The tree is fixed (see src/seed/catalog-words.ts): 1 is a department (43 categories in its
// subtree), 11 one of its categories (7), 71 one of that category's leaves (1).
const ROOT = 1;
const MID = 11;
const LEAF = 71;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let client: Client;
let brand: string;
let categoryBrand: string;
let vendorId: number;
const subtreeSize = new Map<number, number>();

beforeAll(async () => {
  db = await createTestDatabase();
  client = new Client({ connectionString: db.url });
  await client.connect();
  await seedCatalog(client, { products: PRODUCTS, seed: 3 });
  // A mid-sized brand and vendor: neither the largest nor a tiny one.
  ({ brand } = (await client.query(`select brand from products group by brand order by count(*) desc offset 20 limit 1`)).rows[0]);
  ({ brand: categoryBrand } = (await client.query(
    `select brand from products where category_id in (select id from categories where path @> array[$1::int]) group by brand order by count(*) desc offset 5 limit 1`,
    [MID],
  )).rows[0]);
  ({ vendor_id: vendorId } = (await client.query(`select vendor_id from products group by vendor_id order by count(*) desc offset 10 limit 1`)).rows[0]);
  for (const id of [ROOT, MID, LEAF]) {
    subtreeSize.set(id, (await client.query(`select count(*)::int as n from categories where path @> array[$1::int]`, [id])).rows[0].n);
  }
}, 180_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function plan(filters: DiscoveryFilters, ordering: ProductOrdering, page: PageSpec): Promise<PlanNode> {
  const q = productListQuery(filters, ordering, page);
  const { rows } = await client.query(`explain (format json) ${toPgPlaceholders(q.sql)}`, q.params);
  return firstOf(rows[0]['QUERY PLAN'] as { Plan: PlanNode }[]).Plan;
}

function nodes(root: PlanNode): PlanNode[] {
  return [root, ...(root.Plans ?? []).flatMap(nodes)];
}

/** Asserts the rule; on failure the message carries the whole plan. */
function expectIndexedPlan(root: PlanNode, maxSortRows: number): void {
  const all = nodes(root);
  const context = JSON.stringify(root, null, 1);
  const seqScans = all.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'products');
  expect({ seqScans: seqScans.length, context }).toEqual({ seqScans: 0, context });
  const sorts = all.filter((n) => /Sort$/.test(n['Node Type'])).map((n) => n['Plan Rows']);
  expect({ sorts: sorts.filter((rows) => rows > maxSortRows), context }).toEqual({ sorts: [], context });
  expect(all.some((n) => n['Index Name']?.startsWith('products_'))).toBe(true);
}

/** One page of rows, in display order. */
async function page(filters: DiscoveryFilters, ordering: ProductOrdering, spec: PageSpec): Promise<ProductRow[]> {
  const q = productListQuery(filters, ordering, spec);
  const { rows } = await client.query<ProductRow>(toPgPlaceholders(q.sql), q.params);
  const items = rows.slice(0, spec.size);
  return q.reversed ? items.reverse() : items;
}

const cursor = (after?: (string | number)[]): PageSpec => ({ kind: 'cursor', size: SIZE, after });

describe('discovery plans', () => {
  it.each(ORDERINGS)('no filter, ordering %s: one ordered index scan', async (ordering) => {
    expectIndexedPlan(await plan(PUBLIC, ordering, cursor()), SIZE + 1);
  });

  it.each([
    ['a department', ROOT],
    ['a category', MID],
    ['a leaf', LEAF],
  ])('%s with a price range, in stock, by price (both ways): per-category probes', async (_label, category) => {
    const filters: DiscoveryFilters = { ...PUBLIC, category, minPrice: '10.00', maxPrice: '150.00', inStock: true };
    const bound = subtreeSize.get(category)! * (SIZE + 1);
    expectIndexedPlan(await plan(filters, 'price', cursor()), bound);
    expectIndexedPlan(await plan(filters, '-price', cursor()), bound);
  });

  it.each(ORDERINGS)('a category, ordering %s', async (ordering) => {
    expectIndexedPlan(await plan({ ...PUBLIC, category: MID }, ordering, cursor()), subtreeSize.get(MID)! * (SIZE + 1));
  });

  it('a category given by slug', async () => {
    // The slug is resolved inside the query, so the planner uses its default estimate for the
    // subtree (2 categories) instead of the statistics: still per-category probes.
    const filters: DiscoveryFilters = { ...PUBLIC, category: 'home-and-kitchen-cookware', inStock: true };
    expectIndexedPlan(await plan(filters, 'price', cursor()), subtreeSize.get(MID)! * (SIZE + 1));
    expect((await page(filters, 'price', cursor())).length).toBe(SIZE);
  });

  it.each(['price', '-price'] as const)('a brand, ordering %s', async (ordering) => {
    expectIndexedPlan(await plan({ ...PUBLIC, brands: [brand] }, ordering, cursor()), SIZE + 1);
  });

  it.each(['price', '-price'] as const)('a category and a brand, ordering %s: per-category probes of that brand only', async (ordering) => {
    const root = await plan({ ...PUBLIC, category: MID, brands: [categoryBrand], inStock: true }, ordering, cursor());
    expectIndexedPlan(root, subtreeSize.get(MID)! * (SIZE + 1));
    expect(nodes(root).map((n) => n['Index Name'])).toContain('products_active_category_brand_price_idx');
  });

  it.each(['created_at', '-created_at'] as const)('a vendor, ordering %s', async (ordering) => {
    expectIndexedPlan(await plan({ ...PUBLIC, vendorId }, ordering, cursor()), SIZE + 1);
  });

  it('deep cursor pages read from the boundary, not from the start', async () => {
    const last = (await client.query(`select price, id from products where is_active order by price, id offset 40000 limit 1`)).rows[0];
    expectIndexedPlan(await plan(PUBLIC, 'price', cursor([last.price, last.id])), SIZE + 1);
    const filters: DiscoveryFilters = { ...PUBLIC, category: ROOT, minPrice: '10.00', maxPrice: '150.00', inStock: true };
    expectIndexedPlan(await plan(filters, 'price', cursor(['80.00', 12345])), subtreeSize.get(ROOT)! * (SIZE + 1));
    expectIndexedPlan(await plan({ ...PUBLIC, category: MID }, '-created_at', cursor(['2025-06-01T00:00:00.000Z', 40000])), subtreeSize.get(MID)! * (SIZE + 1));
  });

  it('numbered pages of a category sort at most (offset + size) rows per category', async () => {
    const root = await plan({ ...PUBLIC, category: MID, inStock: true }, 'price', { kind: 'page', size: SIZE, page: 5 });
    expectIndexedPlan(root, subtreeSize.get(MID)! * SIZE * 5);
  });

  it.each([
    ['a department with a price range, in stock, by price', { ...PUBLIC, category: ROOT, minPrice: '10.00', maxPrice: '150.00', inStock: true }, 'price', ROOT],
    ['a category by slug, newest first', { ...PUBLIC, category: 'home-and-kitchen-cookware' }, '-created_at', MID],
    ['a leaf by name, from a cursor', { ...PUBLIC, category: LEAF, inStock: true }, 'name', LEAF],
    ['the whole catalog, newest first', PUBLIC, '-created_at', undefined],
    ['the whole catalog in stock, by rating', { ...PUBLIC, inStock: true }, '-rating', undefined],
  ] as [string, DiscoveryFilters, ProductOrdering, number | undefined][])(
    'prepared (stable plan) %s: the generic plan is as indexed as the custom one',
    async (_label, filters, ordering, category) => {
      const spec = cursor(_label.includes('cursor') ? ['m', 30000] : undefined);
      const q = productListQuery(filters, ordering, spec);
      expect(q.stablePlan).toBe(true);
      // A generic plan cannot see the category's statistics: it estimates a subtree of 2 categories.
      const bound = (category === undefined ? 1 : Math.max(2, subtreeSize.get(category)!)) * (SIZE + 1);
      await client.query('deallocate all');
      await client.query(`prepare list_page as ${toPgPlaceholders(q.sql)}`);
      try {
        await client.query('set plan_cache_mode = force_generic_plan');
        const params = q.params.map((v) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`));
        const { rows } = await client.query(`explain (format json) execute list_page${params.length ? `(${params.join(', ')})` : ''}`);
        expectIndexedPlan(firstOf(rows[0]['QUERY PLAN'] as { Plan: PlanNode }[]).Plan, bound);
      } finally {
        await client.query('reset plan_cache_mode');
        await client.query('deallocate all');
      }
    },
  );

  it.each([
    ['a brand', { ...PUBLIC, brands: ['x'] }, 'price'],
    ['a vendor', { ...PUBLIC, vendorId: 1 }, '-created_at'],
    ['a price range without a category', { ...PUBLIC, minPrice: '10.00' }, 'price'],
    ['a search', { ...PUBLIC, search: 'lamp' }, 'relevance'],
    ['a search in a category', { ...PUBLIC, category: MID, search: 'lamp' }, 'price'],
  ] as [string, DiscoveryFilters, ProductOrdering][])('%s picks its plan by the values: never prepared', (_label, filters, ordering) => {
    expect(productListQuery(filters, ordering, cursor()).stablePlan).toBe(false);
    expect(productListQuery({ ...PUBLIC, category: MID }, 'price', { kind: 'page', size: SIZE, page: 2 }).stablePlan).toBe(false);
  });

  it('search reads the full-text GIN index (and ranks only its matches); the typo fallback the trigram index', async () => {
    const fullText = await plan({ ...PUBLIC, search: 'wireless headphones' }, 'relevance', cursor());
    expect(nodes(fullText).map((n) => n['Index Name']).filter(Boolean)).toContain('products_search_vector_idx');
    expect(nodes(fullText).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'products')).toEqual([]);
    const fuzzy = await plan({ ...PUBLIC, search: 'wireles headphnes', fuzzy: true }, 'relevance', cursor());
    expect(nodes(fuzzy).map((n) => n['Index Name']).filter(Boolean)).toContain('products_name_trgm_idx');
    expect(nodes(fuzzy).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'products')).toEqual([]);
  });
});

describe('cursor pagination', () => {
  /** Walks every page forward with `after`, then back from the last page with `before`. */
  async function walk(filters: DiscoveryFilters, ordering: ProductOrdering, size: number) {
    const forward: number[][] = [];
    let after: (string | number)[] | undefined;
    for (;;) {
      const q = productListQuery(filters, ordering, { kind: 'cursor', size, after });
      const { rows } = await client.query<ProductRow>(toPgPlaceholders(q.sql), q.params);
      const items = rows.slice(0, size);
      if (items.length) forward.push(items.map((r) => r.id));
      if (rows.length <= size) break;
      const last = lastOf(items);
      after = [sortKeyOf(last, ordering), last.id];
    }
    const backward: number[][] = forward.slice(-1);
    let first: number | undefined = backward[0]?.[0];
    while (first !== undefined && backward.length < forward.length) {
      const row = firstOf((await client.query<ProductRow>(`select p.*, p.images[1] as image from products p where id = $1`, [first])).rows);
      const items = await page(filters, ordering, { kind: 'cursor', size, before: [sortKeyOf(row, ordering), row.id] });
      backward.unshift(items.map((r) => r.id));
      first = items[0]?.id;
    }
    return { forward, backward };
  }

  it.each([
    ['a category with a price range, in stock, by price', { ...PUBLIC, category: MID, minPrice: '10.00', maxPrice: '150.00', inStock: true }, 'price', 'p.price, p.id'],
    ['a category, newest first', { ...PUBLIC, category: MID }, '-created_at', 'p.created_at desc, p.id desc'],
    ['a department, by name', { ...PUBLIC, category: ROOT, maxPrice: '20.00' }, 'name', 'p.name, p.id'],
    ['a brand, most expensive first', { ...PUBLIC, brands: ['__brand__'] }, '-price', 'p.price desc, p.id desc'],
  ] as [string, DiscoveryFilters, ProductOrdering, string][])('%s: no duplicates or gaps, forward and backward', async (_label, given, ordering, orderBy) => {
    const filters = given.brands ? { ...given, brands: [brand] } : given;
    const where: string[] = ['p.is_active'];
    const params: unknown[] = [];
    if (filters.category !== undefined) {
      params.push(filters.category);
      where.push(`p.category_id in (select id from categories where path @> array[$${params.length}::int])`);
    }
    if (filters.minPrice) where.push(`p.price >= ${filters.minPrice}`);
    if (filters.maxPrice) where.push(`p.price <= ${filters.maxPrice}`);
    if (filters.inStock) where.push('p.in_stock');
    if (filters.brands) {
      params.push(brand);
      where.push(`p.brand = $${params.length}`);
    }
    const expected = (await client.query<{ id: number }>(`select p.id from products p where ${where.join(' and ')} order by ${orderBy}`, params)).rows.map((r) => r.id);
    expect(expected.length).toBeGreaterThan(100);

    const { forward, backward } = await walk(filters, ordering, 37);
    expect(forward.flat()).toEqual(expected);
    expect(backward).toEqual(forward);
  });
});
