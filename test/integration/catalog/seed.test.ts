import { MikroORM, ref } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormOptions } from '../../../src/orm.config';
import { verifyPassword } from '../../../src/modules/accounts/passwords';
import { User } from '../../../src/modules/accounts/user.entity';
import { Category } from '../../../src/modules/catalog/category.entity';
import { ProductVariant } from '../../../src/modules/catalog/product-variant.entity';
import { Product } from '../../../src/modules/catalog/product.entity';
import { CatalogNotEmptyError, SEED_UNTIL, SEED_VENDOR_PASSWORD, seedCatalog } from '../../../src/seed/catalog';
import { createTestDatabase } from '../../support/database';

const PRODUCTS = 3000;

interface Db {
  url: string;
  client: Client;
  drop(): Promise<void>;
}

async function database(): Promise<Db> {
  const db = await createTestDatabase();
  const client = new Client({ connectionString: db.url });
  await client.connect();
  return { url: db.url, client, drop: async () => { await client.end(); await db.drop(); } };
}

async function one<T>(client: Client, sql: string, params: unknown[] = []): Promise<T> {
  return (await client.query(sql, params)).rows[0] as T;
}

/** A digest of every catalog row (vendors by username, so the digest does not depend on user ids). */
async function digest(client: Client): Promise<{ categories: string; products: string; variants: string }> {
  return one(client, `select
    (select md5(string_agg((to_jsonb(c) - 'created_at' - 'updated_at')::text, E'\\n' order by c.id)) from categories c) as categories,
    (select md5(string_agg((to_jsonb(p) - 'vendor_id' - 'search_vector' || jsonb_build_object('vendor', u.username))::text, E'\\n' order by p.id))
       from products p join users u on u.id = p.vendor_id) as products,
    (select md5(string_agg(to_jsonb(v)::text, E'\\n' order by v.id)) from product_variants v) as variants`);
}

/** What the schema looks like: indexes, constraints, trigger states. */
async function schemaShape(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ item: string }>(`
    select 'index ' || indexdef as item from pg_indexes where tablename in ('categories', 'products', 'product_variants')
    union all
    select 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint
     where conrelid in ('categories'::regclass, 'products'::regclass, 'product_variants'::regclass)
    union all
    select 'trigger ' || tgname || ' ' || tgenabled::text from pg_trigger where tgrelid = 'product_variants'::regclass and not tgisinternal
    order by 1`);
  return rows.map((r) => r.item);
}

/** Products whose stored aggregates differ from a recomputation from their variants (as the trigger does). */
const AGGREGATE_MISMATCHES = `
  select count(*)::int as n from products p
  join lateral (
    select min(price) filter (where is_active) as min_active, max(price) filter (where is_active) as max_active,
           min(price) as min_all, max(price) as max_all, coalesce(sum(stock) filter (where is_active), 0)::int as stock
      from product_variants v where v.product_id = p.id
  ) a on true
  where (p.price, p.max_price, p.stock, p.in_stock)
        is distinct from (coalesce(a.min_active, a.min_all), coalesce(a.max_active, a.max_all), a.stock, a.stock > 0)`;

describe('the catalog seed', () => {
  let a: Db;
  let b: Db;
  let c: Db;
  let pristine: string[];
  let seeded: Awaited<ReturnType<typeof digest>>;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([database(), database(), database()]);
    pristine = await schemaShape(a.client);
    // Different batch sizes: batching must not change the data.
    await seedCatalog(a.client, { products: PRODUCTS, seed: 7, batchSize: 1000 });
    await seedCatalog(b.client, { products: PRODUCTS, seed: 7, batchSize: 700 });
    await seedCatalog(c.client, { products: PRODUCTS, seed: 8 });
    seeded = await digest(a.client);
  });

  afterAll(async () => {
    await Promise.all([a, b, c].filter(Boolean).map((db) => db.drop()));
  });

  it('is deterministic: the same seed gives the same rows, another seed other rows', async () => {
    const [da, db, dc] = await Promise.all([digest(a.client), digest(b.client), digest(c.client)]);
    expect(da).toEqual(seeded);
    expect(db).toEqual(da);
    expect(dc.categories).toEqual(da.categories); // the tree is fixed
    expect(dc.products).not.toEqual(da.products);
    expect(dc.variants).not.toEqual(da.variants);
  });

  it('builds a realistic catalog', async () => {
    const stats = await one<Record<string, number | string>>(a.client, `select
      (select count(*)::int from categories) as categories,
      (select count(*)::int from categories where parent_id is null) as roots,
      (select count(*)::int from products) as products,
      (select count(*)::int from product_variants) as variants,
      (select count(*)::int from products where not is_active) as inactive,
      (select count(*)::int from products where not in_stock) as out_of_stock,
      (select count(*)::int from product_variants where stock = 0) as empty_variants,
      (select count(*)::int from products p where exists (select 1 from categories c where c.parent_id = p.category_id)) as on_inner_nodes,
      (select count(*)::int from products p where not exists (select 1 from product_variants v where v.product_id = p.id)) as without_variants,
      (select max(n)::int from (select count(*) as n from product_variants group by product_id) x) as max_variants,
      (select count(distinct brand)::int from products) as brands,
      (select max(n)::int from (select count(*) as n from products group by brand) x) as top_brand,
      (select count(distinct vendor_id)::int from products) as vendors,
      (select count(*)::int from products where created_at < $1::timestamptz - interval '2 years' or created_at >= $1::timestamptz) as out_of_range,
      (select count(*)::int from products where extract(milliseconds from created_at)::numeric % 1000 <> 0) as with_ms,
      (select count(*)::int from products where price <> round(price, 2) or price <= 0) as bad_prices,
      (select count(*)::int from products where cardinality(images) between 1 and 4) as with_images`,
      [SEED_UNTIL.toISOString()]);
    expect(stats).toMatchObject({ categories: 430, roots: 10, products: PRODUCTS, on_inner_nodes: 0, without_variants: 0, max_variants: 3, vendors: 50, out_of_range: 0, bad_prices: 0, with_images: PRODUCTS });
    expect(stats.variants).toBeGreaterThan(PRODUCTS * 1.3);
    expect(stats.inactive).toBeGreaterThan(PRODUCTS * 0.03);
    expect(stats.inactive).toBeLessThan(PRODUCTS * 0.08);
    expect(stats.out_of_stock).toBeGreaterThan(0);
    expect(stats.empty_variants).toBeGreaterThan(0);
    expect(stats.with_ms).toBeGreaterThan(PRODUCTS * 0.9);
    // Zipf-like: the top brand holds far more than an even share (1/200) of the catalog.
    expect(stats.brands).toBeGreaterThan(100);
    expect(stats.top_brand).toBeGreaterThan(PRODUCTS / 200 * 5);
    // Full-text and trigram search find realistic hits.
    const search = await one<{ fts: number; trgm: number }>(a.client, `select
      (select count(*)::int from products where search_vector @@ websearch_to_tsquery('english', 'wireless headphones')) as fts,
      (select count(*)::int from products where 'headphnes' <% name) as trgm`);
    expect(search.fts).toBeGreaterThan(0);
    expect(search.trgm).toBeGreaterThan(0);
  });

  it('stores the aggregates the variant trigger would compute', async () => {
    expect((await one<{ n: number }>(a.client, AGGREGATE_MISMATCHES)).n).toBe(0);
    // And the trigger's own function finds nothing to change.
    const before = await digest(a.client);
    await a.client.query('begin');
    await a.client.query('select refresh_product_aggregates(id) from products');
    const after = await digest(a.client);
    await a.client.query('rollback');
    expect(after.products).toEqual(before.products);
  });

  it('records the seeded stock in the inventory ledger, so stock reconciles with history', async () => {
    const { mismatched, variants } = await one<{ mismatched: number; variants: number }>(
      a.client,
      `select count(*) filter (where v.stock <> coalesce(m.moved, 0))::int as mismatched, count(*)::int as variants
         from product_variants v
         left join (select variant_id, sum(delta)::int as moved from inventory_movements group by variant_id) m on m.variant_id = v.id`,
    );
    expect(variants).toBeGreaterThan(PRODUCTS);
    expect(mismatched).toBe(0);
  });

  it('leaves unique SKUs and slugs, the schema as it was and the trigger enabled', async () => {
    const counts = await one<Record<string, number>>(a.client, `select
      (select count(distinct sku)::int from products) as product_skus, (select count(distinct slug)::int from products) as product_slugs,
      (select count(distinct sku)::int from product_variants) as variant_skus, (select count(*)::int from product_variants) as variants,
      (select count(distinct slug)::int from categories) as category_slugs`);
    expect(counts).toMatchObject({ product_skus: PRODUCTS, product_slugs: PRODUCTS, variant_skus: counts.variants, category_slugs: 430 });
    expect(await schemaShape(a.client)).toEqual(pristine);
    expect(pristine).toContain('trigger product_variants_refresh_product O');
  });

  it('creates vendors that can sign in with the documented password', async () => {
    const vendor = await one<{ role: string; password_hash: string; products: number }>(a.client,
      `select role, password_hash, (select count(*)::int from products where vendor_id = u.id) as products from users u where username = 'vendor001'`);
    expect(vendor.role).toBe('vendor');
    expect(vendor.products).toBeGreaterThan(0);
    expect(await verifyPassword(vendor.password_hash, SEED_VENDOR_PASSWORD)).toBe(true);
  });

  it('leaves the sequences usable: normal inserts get the next ids and the trigger runs again', async () => {
    const orm = await MikroORM.init(ormOptions({ clientUrl: a.url, poolMax: 2 }));
    try {
      const em = orm.em.fork();
      const vendor = await em.findOneOrFail(User, { username: 'vendor001' });
      const parent = await em.findOneOrFail(Category, 71);
      const category = new Category('Brand New', 'brand-new');
      category.parent = ref(parent);
      em.persist(category);
      await em.flush();
      const product = new Product(vendor.id, category.id, 'Added By Hand', 'added-by-hand', 'HAND-1');
      const variant = new ProductVariant(ref(product), 'HAND-1-1', '12.34');
      variant.stock = 5;
      em.persist([product, variant]);
      await em.flush();
      expect(category.id).toBe(431);
      expect(product.id).toBe(PRODUCTS + 1);
      const maxVariant = await one<{ n: number }>(a.client, 'select max(id)::int as n from product_variants where id <> $1', [variant.id]);
      expect(variant.id).toBe(maxVariant.n + 1);
      const row = await one<{ price: string; stock: number; in_stock: boolean }>(a.client, 'select price, stock, in_stock from products where id = $1', [product.id]);
      expect(row).toEqual({ price: '12.34', stock: 5, in_stock: true });
      const path = await one<{ path: number[] }>(a.client, 'select path from categories where id = 431');
      expect(path.path).toEqual([1, 11, 71, 431]);
    } finally {
      await orm.close();
    }
  });

  it('refuses a non-empty catalog unless asked to reset, and a reset gives the same catalog again', async () => {
    await expect(seedCatalog(b.client, { products: 10, seed: 7 })).rejects.toBeInstanceOf(CatalogNotEmptyError);
    await seedCatalog(b.client, { products: 10, seed: 1, reset: true });
    expect((await one<{ n: number }>(b.client, 'select count(*)::int as n from products')).n).toBe(10);
    await seedCatalog(b.client, { products: PRODUCTS, seed: 7, reset: true });
    expect(await digest(b.client)).toEqual(seeded);
  });

  it('rolls everything back when it fails half-way: data, indexes and trigger as before', async () => {
    const before = await digest(c.client);
    let batches = 0;
    const failing = seedCatalog(c.client, {
      products: PRODUCTS,
      seed: 9,
      reset: true,
      batchSize: 500,
      onProgress: (p) => {
        if (p.phase === 'load' && p.done > 0 && ++batches === 3) throw new Error('disk full (simulated)');
      },
    });
    await expect(failing).rejects.toThrow('disk full (simulated)');
    expect(await digest(c.client)).toEqual(before);
    expect(await schemaShape(c.client)).toEqual(pristine);
  });
});
