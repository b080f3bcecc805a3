import { Client } from 'pg';
import type { components } from '../../../generated/openapi';
import { DiscoveryRepository, DiscoveryService, type ProductListInput } from '../../../src/modules/catalog';
import type { SearchRanking } from '../../../src/modules/catalog/search-ranking';
import type { PageRequest } from '../../../src/shared/paging';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, type MadeProduct, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { countStatements } from '../../support/statements';

/**
 * The search ranking cache (src/modules/catalog/search-ranking.ts): searches by relevance page
 * exactly as the SQL ranks them, whatever was cached before, and every change to the catalog is
 * seen by the very next search.
 */
type Page = components['schemas']['ProductPage'];

let app: TestApp;
let admin: Actor;
let vendor: Actor;
const cat = {} as Record<'gear' | 'audio' | 'headphones' | 'cables' | 'home', components['schemas']['Category']>;
const made: MadeProduct[] = [];

const NAMES = ['Wireless headphones', 'Wireless earbuds', 'Wired headphones', 'Wireless charger', 'USB cable', 'Wireless speaker', 'Desk lamp', 'Headphone stand'];
const DESCRIPTIONS = [
  'Wireless, wireless, wireless: no cables at all.',
  'Closed-back headphones for the studio.',
  'Everyday gear.',
  'Charges any wireless device; a cable is included.',
  '',
];

beforeAll(async () => {
  // Off: the walks here send well over a minute's 600 requests.
  app = await startApp({ RATE_LIMIT_MAX: '0' });
  [admin, vendor] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor')]);
  // gear > (audio > headphones), (cables); home
  cat.gear = await makeCategory(admin, 'Gear');
  cat.audio = await makeCategory(admin, 'Audio', cat.gear.id);
  cat.headphones = await makeCategory(admin, 'Headphones', cat.audio.id);
  cat.cables = await makeCategory(admin, 'Cables', cat.gear.id);
  cat.home = await makeCategory(admin, 'Home');
  const leaves = [cat.audio, cat.headphones, cat.cables, cat.home];
  // 40 products: repeated names and descriptions (rank ties), prices and stock that the fresh
  // filters cut through.
  for (let i = 0; i < 40; i++) {
    made.push(
      await makeProduct(vendor, leaves[i % leaves.length]!.id, {
        name: `${NAMES[i % NAMES.length]} ${i}`,
        description: DESCRIPTIONS[i % DESCRIPTIONS.length],
        brand: i % 3 ? 'Acme' : 'Borealis',
        price: `${10 + (i % 7) * 5}.00`,
        stock: i % 4 === 1 ? 0 : 3,
      }),
    );
  }
});
afterAll(() => app.close());

async function get(path: string): Promise<{ status: number; body: Page }> {
  const res = await fetch(path.startsWith('http') ? path : app.baseUrl + path);
  return { status: res.status, body: (await res.json()) as Page };
}

/** Follows next links from `path` and returns every product id, in order. */
async function walk(path: string): Promise<number[]> {
  const ids: number[] = [];
  let url: string | null = path;
  for (let n = 0; url && n < 100; n++) {
    const { status, body } = await get(url);
    expect(status).toBe(200);
    ids.push(...body.results.map((p) => p.id));
    url = body.next;
  }
  return ids;
}

interface Filter {
  /** An id, or a slug. */
  category?: number | string;
  inStock?: boolean;
  minPrice?: string;
  brands?: string[];
  vendor?: number;
}

const query = (search: string, f: Filter = {}) =>
  `/api/product/?page_size=3&search=${encodeURIComponent(search)}` +
  (f.category !== undefined ? `&category=${f.category}` : '') +
  (f.inStock !== undefined ? `&in_stock=${f.inStock}` : '') +
  (f.minPrice !== undefined ? `&min_price=${f.minPrice}` : '') +
  (f.brands ?? []).map((b) => `&brand=${encodeURIComponent(b)}`).join('') +
  (f.vendor !== undefined ? `&vendor=${f.vendor}` : '');

/** The reference: every match as the SQL ranks it (full text, or trigram similarity on names). */
async function ranked(search: string, f: Filter = {}, fuzzy = false): Promise<number[]> {
  const where = ['p.is_active', fuzzy ? '? <% p.name' : "p.search_vector @@ websearch_to_tsquery('english', ?)"];
  if (f.category !== undefined) {
    // The test's own values: ids, and slugs of [a-z0-9-].
    const root = typeof f.category === 'number' ? String(f.category) : `(select id from categories where slug = '${f.category}')`;
    where.push(`p.category_id in (with recursive s(id) as (select ${root} union all select c.id from categories c join s on c.parent_id = s.id) select id from s)`);
  }
  if (f.inStock !== undefined) where.push(f.inStock ? 'p.in_stock' : 'not p.in_stock');
  if (f.minPrice !== undefined) where.push(`p.price >= ${f.minPrice}`);
  if (f.brands !== undefined) where.push(`p.brand in (${f.brands.map((b) => `'${b}'`).join(', ')})`);
  if (f.vendor !== undefined) where.push(`p.vendor_id = ${f.vendor}`);
  const rank = fuzzy ? 'word_similarity(?, p.name)::real' : "ts_rank_cd(p.search_vector, websearch_to_tsquery('english', ?))::real";
  // The search in each of its two places (knex placeholders).
  const rows = await sql<{ id: number }>(app, `select p.id from products p where ${where.join(' and ')} order by ${rank} desc, p.id desc`, [search, search]);
  return rows.map((r) => r.id);
}

const version = async () => Number((await sql<{ version: string }>(app, 'select version from catalog_search_version'))[0]!.version);

/** The app's ranking cache (the service's repository is private: reached for these assertions only). */
const ranking = () => app.services.discovery['products'].ranking!;

/** What `run` added to the app's ranking cache counters. */
async function counted(run: () => Promise<unknown>): Promise<SearchRanking['stats']> {
  const before = { ...ranking().stats };
  await run();
  const after = ranking().stats;
  return { hits: after.hits - before.hits, misses: after.misses - before.misses, fallbacks: after.fallbacks - before.fallbacks, stale: after.stale - before.stale, errors: after.errors - before.errors };
}

/** Every product id of a walk of `input` through `service` (3 a page), after `after` if given. */
async function walkService(service: DiscoveryService, input: ProductListInput, after?: (string | number)[]): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 0; n < 100; n++) {
    const page: PageRequest = { kind: 'cursor', size: 3, after };
    const { slice } = await service.discover(app.orm.em.fork(), null, input, () => ({ page, scope: null }));
    ids.push(...slice.items.map((r) => r.id));
    if (slice.next === null || typeof slice.next === 'number') return ids;
    after = slice.next;
  }
  throw new Error('too many pages');
}

describe('search by relevance through the ranking cache', () => {
  const filters: Filter[] = [{}, { inStock: true }, { minPrice: '25.00' }, { inStock: true, minPrice: '20.00' }];

  it.each(['wireless', 'wireless headphones', 'headphones OR charger', '"wireless headphones"', 'cable'])('walks %p exactly as the SQL ranks it, with and without filters', async (search) => {
    for (const f of [...filters, ...filters.map((g) => ({ ...g, category: cat.gear.id })), { category: cat.audio.id }]) {
      const expected = await ranked(search, f);
      const first = await counted(async () => expect({ f, ids: await walk(query(search, f)) }).toEqual({ f, ids: expected }));
      expect(first).toMatchObject({ fallbacks: 0, errors: 0 });
      // A second walk reads the cached candidates: every page from the cache.
      const second = await counted(async () => expect({ f, ids: await walk(query(search, f)) }).toEqual({ f, ids: expected }));
      expect(second).toMatchObject({ misses: 0, fallbacks: 0, errors: 0 });
      expect(second.hits).toBeGreaterThan(0);
    }
  });

  it('walks a typo by trigram similarity, exactly', async () => {
    expect(await ranked('headphnes')).toEqual([]);
    for (const f of [{}, { inStock: true }, { category: cat.audio.id }]) {
      const expected = await ranked('headphnes', f, true);
      expect(expected.length).toBeGreaterThan(3);
      expect(await walk(query('headphnes', f))).toEqual(expected);
      const again = await counted(async () => expect(await walk(query('headphnes', f))).toEqual(expected));
      expect(again).toMatchObject({ misses: 0, fallbacks: 0, errors: 0 });
      expect(again.hits).toBeGreaterThan(1);
    }
  });

  it('answers a repeated search with one statement: the fresh rows of the cached candidates', async () => {
    await get(query('wireless headphones'));
    const stats = await counted(async () => {
      const { statements } = await countStatements(app, () => get(query('wireless headphones', { inStock: true })));
      expect(statements).toHaveLength(1);
      expect(statements[0]).toContain('unnest(');
    });
    expect(stats).toMatchObject({ hits: 1, misses: 0, fallbacks: 0 });
  });

  it('keeps other orderings, backward pages and numbered pages on the SQL', async () => {
    const untouched = { hits: 0, misses: 0, fallbacks: 0, stale: 0, errors: 0 };
    const byPriceExpected = (await sql<{ id: number }>(app, "select id from products p where p.is_active and p.search_vector @@ websearch_to_tsquery('english', 'wireless') order by price, id")).map((r) => r.id);
    expect(await counted(async () => expect(await walk('/api/product/?page_size=3&search=wireless&ordering=price')).toEqual(byPriceExpected))).toEqual(untouched);
    const numberedExpected = (await ranked('wireless')).slice(3, 6);
    expect(await counted(async () => expect((await get('/api/product/?page_size=3&search=wireless&page=2')).body.results.map((p) => p.id)).toEqual(numberedExpected))).toEqual(untouched);
    // Back from the third page: the first two pages' ids, in order.
    const first = await get(query('wireless'));
    const second = await get(first.body.next!);
    const third = await get(second.body.next!);
    expect(await counted(async () => expect((await get(third.body.previous!)).body.results.map((p) => p.id)).toEqual(second.body.results.map((p) => p.id)))).toEqual(untouched);
  });

  it('filters by a category slug or id, brands and a vendor exactly as the SQL ranks them, from the cache', async () => {
    // A second vendor's products, so that the vendor filter leaves some matches out.
    const other = await actor(app, 'vendor');
    for (let i = 0; i < 5; i++) {
      await makeProduct(other, cat.headphones.id, { name: `Wireless headset ${i}`, description: DESCRIPTIONS[i % DESCRIPTIONS.length], brand: i % 2 ? 'Acme' : 'Corvid', price: `${15 + i * 5}.00`, stock: i % 2 });
    }
    const cases: Filter[] = [
      { category: cat.gear.slug },
      { category: cat.audio.slug, inStock: true },
      { category: cat.audio.id },
      { brands: ['Acme'] },
      { brands: ['Borealis', 'Corvid'], minPrice: '20.00' },
      { vendor: other.user.id },
      { vendor: vendor.user.id, category: cat.gear.slug, inStock: true },
    ];
    for (const search of ['wireless', 'headphones OR headset']) {
      for (const f of cases) {
        const expected = await ranked(search, f);
        expect(expected.length).toBeGreaterThan(0);
        expect({ search, f, ids: await walk(query(search, f)) }).toEqual({ search, f, ids: expected });
        const again = await counted(async () => expect({ search, f, ids: await walk(query(search, f)) }).toEqual({ search, f, ids: expected }));
        expect({ search, f, ...again }).toMatchObject({ search, f, misses: 0, fallbacks: 0, errors: 0 });
        expect(again.hits).toBeGreaterThan(0);
      }
    }
    // The vendor filter did leave matches out.
    expect((await ranked('wireless', { vendor: other.user.id })).length).toBeLessThan((await ranked('wireless')).length);
  });

  it('shows a rename committed between two pages of a walk on the next page, without repeats or gaps', async () => {
    const first = await get(query('wireless'));
    const shown = first.body.results.map((p) => p.id);
    const before = await ranked('wireless');
    // Out of the search: a match further down the walk; into it: a product that did not match.
    const out = before[7]!;
    const [into] = await sql<{ id: number }>(app, "select id from products where is_active and not search_vector @@ websearch_to_tsquery('english', 'wireless') order by id limit 1");
    const texts = await sql<{ id: number; name: string; description: string }>(app, 'select id, name, description from products where id in (?, ?)', [out, into!.id]);
    const writer = new Client({ connectionString: app.databaseUrl });
    await writer.connect();
    try {
      await writer.query("update products set name = 'Corded thing', description = '' where id = $1", [out]);
      await writer.query("update products set name = 'Wireless wireless gadget' where id = $1", [into!.id]);
      const fresh = await ranked('wireless');
      // The walk goes on after the first page's last product, which the renames did not move.
      const expected = fresh.slice(fresh.indexOf(shown[shown.length - 1]!) + 1);
      let rest: number[] = [];
      const stats = await counted(async () => (rest = await walk(first.body.next!)));
      expect(rest).toEqual(expected);
      expect([...shown, ...rest]).not.toContain(out);
      expect(new Set([...shown, ...rest]).size).toBe(shown.length + rest.length);
      // The next page saw the new version, ranked again, and answered from the cache.
      expect(stats.stale).toBe(1);
      expect(stats).toMatchObject({ misses: 1, fallbacks: 0, errors: 0 });
    } finally {
      for (const { id, name, description } of texts) await writer.query('update products set name = $1, description = $2 where id = $3', [name, description, id]);
      await writer.end();
    }
  });

  it('continues a cursor issued by the SQL path on the cache path, and the other way round', async () => {
    const bySql = new DiscoveryService(new DiscoveryRepository(true));
    for (const [input, f] of [
      [{ search: 'wireless' }, {}],
      [{ search: 'headphones', inStock: true, category: cat.gear.slug }, { inStock: true, category: cat.gear.slug }],
    ] as [ProductListInput, Filter][]) {
      const expected = await ranked(input.search!, f);
      expect(expected.length).toBeGreaterThan(6);
      const page: PageRequest = { kind: 'cursor', size: 3 };
      const fromSql = (await bySql.discover(app.orm.em.fork(), null, input, () => ({ page, scope: null }))).slice;
      const fromCache = (await app.services.discovery.discover(app.orm.em.fork(), null, input, () => ({ page, scope: null }))).slice;
      expect(fromCache.next).toEqual(fromSql.next);
      const stats = await counted(async () => expect(await walkService(app.services.discovery, input, fromSql.next as (string | number)[])).toEqual(expected.slice(3)));
      expect(stats).toMatchObject({ fallbacks: 0, errors: 0 });
      expect(stats.hits).toBeGreaterThan(0);
      expect(await walkService(bySql, input, fromCache.next as (string | number)[])).toEqual(expected.slice(3));
    }
  });
});

describe('changes are seen by the very next search', () => {
  /** Caches the searches (a walk), applies `change`, and expects the next walks to follow the SQL. */
  async function afterChange(cases: [string, Filter][], change: () => Promise<unknown>): Promise<void> {
    for (const [search, f] of cases) expect(await walk(query(search, f))).toEqual(await ranked(search, f));
    const before = await Promise.all(cases.map(([search, f]) => ranked(search, f)));
    await change();
    const after = await Promise.all(cases.map(([search, f]) => ranked(search, f)));
    // The change is one the searches can see.
    expect(after).not.toEqual(before);
    for (const [search, f] of cases) expect({ search, f, ids: await walk(query(search, f)) }).toEqual({ search, f, ids: await ranked(search, f) });
  }

  const patchProduct = async (id: number, body: components['schemas']['ProductUpdate']) => {
    const { response } = await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id } }, body });
    expect(response.status).toBe(200);
  };
  const patchVariant = async (id: number, body: components['schemas']['VariantUpdate']) => {
    const { response } = await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id } }, body });
    expect(response.status).toBe(200);
  };

  it('a product renamed into a search, and one renamed out of it (API)', async () => {
    const lamp = made.find((p) => p.name.startsWith('Desk lamp') && p.is_active)!;
    await afterChange([['wireless', {}], ['wireless', { category: cat.gear.id }]], () => patchProduct(lamp.id, { name: 'Wireless desk lamp' }));
    // "Wireless earbuds 1": its description does not say wireless.
    const earbuds = made.find((p) => p.name === 'Wireless earbuds 1')!;
    await afterChange([['wireless', {}], ['earbuds', {}]], () => patchProduct(earbuds.id, { name: 'Corded earbuds 1' }));
  });

  it('a product deactivated, and one created (API)', async () => {
    const speaker = made.find((p) => p.name.startsWith('Wireless speaker'))!;
    await afterChange([['wireless speaker', {}], ['wireless', { inStock: true }]], () => patchProduct(speaker.id, { is_active: false }));
    await afterChange([['wireless speaker', {}], ['wireless', { category: cat.home.id }]], () =>
      makeProduct(vendor, cat.home.id, { name: 'Wireless speaker deluxe', description: 'Wireless wireless wireless speaker.', price: '99.00', stock: 1 }),
    );
  });

  it('a category moved, with its subtree, into the filtered one (API)', async () => {
    await afterChange([['wireless', { category: cat.audio.id }], ['cable', { category: cat.audio.id }]], async () => {
      const { response } = await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: cat.cables.id } }, body: { parent: cat.audio.id } });
      expect(response.status).toBe(200);
    });
  });

  it('a variant out of stock and a price change: fresh rows, and no new version (API)', async () => {
    const inStock = made.find((p) => p.name.startsWith('Wireless headphones') && p.in_stock)!;
    const v0 = await version();
    await afterChange([['wireless', { inStock: true }], ['headphones', { inStock: true, category: cat.gear.id }]], () => patchVariant(inStock.variants[0].id, { stock: 0 }));
    const cheap = made.find((p) => p.name.startsWith('Wireless charger') && Number(p.price) < 25)!;
    await afterChange([['wireless', { minPrice: '25.00' }], ['charger', { minPrice: '25.00' }]], () => patchVariant(cheap.variants[0].id, { price: '80.00' }));
    expect(await version()).toBe(v0);
  });
});

describe('catalog_search_version', () => {
  it('is bumped by changes to what searches match, not by stock, prices, ratings or images (SQL)', async () => {
    const [product] = await sql<{ id: number }>(app, 'select id from products where is_active order by id limit 1');
    const id = product!.id;
    const bumps = async (statement: string, params: unknown[] = []) => {
      const v = await version();
      await sql(app, statement, params);
      return (await version()) - v;
    };
    expect(await bumps('update products set name = name || ? where id = ?', [' x', id])).toBe(1);
    expect(await bumps("update products set description = 'new words' where id = ?", [id])).toBe(1);
    expect(await bumps('update products set category_id = category_id where id = ?', [id])).toBe(1);
    expect(await bumps('update products set is_active = true where id = ?', [id])).toBe(1);
    expect(await bumps("update categories set slug = slug || '-x' where id = ?", [cat.home.id])).toBe(1);
    expect(await bumps('update categories set parent_id = ? where id = ?', [cat.gear.id, cat.home.id])).toBe(1);

    expect(await bumps('update product_variants set stock = stock + 5 where product_id = ?', [id])).toBe(0);
    expect(await bumps('update product_variants set price = price + 1 where product_id = ?', [id])).toBe(0);
    expect(await bumps('update products set rating_avg = 4.5, rating_count = 2 where id = ?', [id])).toBe(0);
    expect(await bumps("update products set images = '{https://cdn.example.com/x.jpg}' where id = ?", [id])).toBe(0);
    expect(await bumps("update categories set name = 'Renamed' where id = ?", [cat.home.id])).toBe(0);
    // One bump per transaction, however many rows and statements.
    expect(await bumps("update products set brand = brand || '' where is_active")).toBe(1);
    expect(await bumps("update products set brand = brand || ''; update categories set slug = slug; update products set name = name")).toBe(1);
  });

  it('is bumped at commit, not before, and never makes catalog writers wait for each other (SQL)', async () => {
    const [a, b] = await sql<{ id: number }>(app, 'select id from products order by id limit 2');
    const writer = new Client({ connectionString: app.databaseUrl });
    const other = new Client({ connectionString: app.databaseUrl });
    await Promise.all([writer.connect(), other.connect()]);
    try {
      const v = await version();
      await writer.query('begin');
      await writer.query("update products set name = name || ' (1)' where id = $1", [a!.id]);
      // Another writer's transaction goes through while the first is open: nothing global is locked yet.
      await other.query("set lock_timeout = '2s'");
      await other.query("update products set name = name || ' (2)' where id = $1", [b!.id]);
      expect(await version()).toBe(v + 1);
      await writer.query('commit');
      expect(await version()).toBe(v + 2);
      // Rolled back: no bump.
      await writer.query('begin');
      await writer.query("update products set name = name || ' (3)' where id = $1", [a!.id]);
      await writer.query('rollback');
      expect(await version()).toBe(v + 2);
      expect(await sql(app, 'select * from catalog_search_changes')).toEqual([]);
    } finally {
      await Promise.all([writer.end(), other.end()]);
    }
  });
});

describe('past the candidates kept', () => {
  /** A ranking that keeps 4 candidates per search: every walk goes past them. */
  const repository = new DiscoveryRepository(true, { maxCandidates: 1000, limit: 4 });
  const service = new DiscoveryService(repository);

  it('continues exactly by SQL', async () => {
    for (const [input, f] of [
      [{ search: 'wireless' }, {}],
      [{ search: 'wireless', inStock: true }, { inStock: true }],
      [{ search: 'headphones', category: String(cat.gear.id), minPrice: '20.00' }, { category: cat.gear.id, minPrice: '20.00' }],
    ] as [ProductListInput, Filter][]) {
      const expected = await ranked(input.search!, f);
      expect(expected.length).toBeGreaterThan(6);
      expect(await walkService(service, input)).toEqual(expected);
      expect(await walkService(service, input)).toEqual(expected);
    }
    expect(repository.ranking!.stats.fallbacks).toBeGreaterThan(0);
    expect(repository.ranking!.stats.hits).toBeGreaterThan(0);
  });
});

describe('errors on the cache path', () => {
  it('answers by SQL when the ranking or the rows statement fails, and counts it', async () => {
    const repository = new DiscoveryRepository(true, { maxCandidates: 100_000 });
    const service = new DiscoveryService(repository);
    const expected = await ranked('wireless');
    // As a statement timeout would fail them.
    const timeout = () => Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const candidates = jest.spyOn(repository, 'candidates').mockRejectedValueOnce(timeout());
    expect(await walkService(service, { search: 'wireless' })).toEqual(expected);
    expect(repository.ranking!.stats).toMatchObject({ errors: 1, fallbacks: 1 });
    expect(repository.ranking!.stats.hits).toBeGreaterThan(0);
    const rows = jest.spyOn(repository, 'rows').mockRejectedValueOnce(timeout());
    expect(await walkService(service, { search: 'wireless', inStock: true })).toEqual(await ranked('wireless', { inStock: true }));
    expect(repository.ranking!.stats).toMatchObject({ errors: 2, fallbacks: 2 });
    expect(candidates).toHaveBeenCalledTimes(2);
    expect(rows.mock.calls.length).toBeGreaterThan(1);
  });
});
