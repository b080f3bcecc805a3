import type { components } from '../../../generated/openapi';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { firstOf, itemAt } from '../../support/narrow';

type Summary = components['schemas']['ProductSummary'];
type Page = components['schemas']['ProductPage'];

let app: TestApp;
let admin: Actor;
let vendor: Actor;
let other: Actor;
/** Filled in beforeAll. */
const cat = {} as Record<'outdoor' | 'footwear' | 'trail' | 'clothing' | 'home', components['schemas']['Category']>;

const BRANDS = ['Acme', 'Borealis', 'Cirrus'];
const NOUNS = ['Running shoe', 'Trail jacket', 'Wool sock', 'Rain hat', 'Camp stove'];

beforeAll(async () => {
  app = await startApp();
  [admin, vendor, other] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app, 'vendor')]);
  // outdoor > (footwear > trail), (clothing); home
  cat.outdoor = await makeCategory(admin, 'Outdoor');
  cat.footwear = await makeCategory(admin, 'Footwear', cat.outdoor.id);
  cat.trail = await makeCategory(admin, 'Trail', cat.footwear.id);
  cat.clothing = await makeCategory(admin, 'Clothing', cat.outdoor.id);
  cat.home = await makeCategory(admin, 'Home');
  const leaves = [cat.footwear, cat.trail, cat.clothing, cat.home];
  // 48 products: repeated prices (ties), some out of stock, several brands and two vendors.
  for (let i = 0; i < 48; i++) {
    const seller = i % 4 === 3 ? other : vendor;
    await makeProduct(seller, itemAt(leaves, i % leaves.length).id, {
      name: `${NOUNS[i % NOUNS.length]} ${String.fromCharCode(65 + (i % 26))}${i}`,
      description: i % 6 === 0 ? 'Waterproof and breathable for wet weather.' : 'Everyday gear.',
      brand: BRANDS[i % BRANDS.length],
      price: `${5 + (i % 8) * 5}.${i % 2 ? '50' : '00'}`,
      stock: i % 5 === 0 ? 0 : i,
      images: [`https://cdn.example.com/p${i}.jpg`],
    });
  }
  // One inactive product, visible to its vendor and admins only.
  const hidden = await makeProduct(vendor, cat.trail.id, { name: 'Hidden prototype', price: '99.00' });
  await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: hidden.id } }, body: { is_active: false } });
});
afterAll(() => app.close());

async function get(path: string, who?: Actor): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(path.startsWith('http') ? path : app.baseUrl + path, {
    headers: who ? { authorization: `Bearer ${who.tokens.access}` } : {},
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Follows next links from `path` and returns every product id, in order. */
async function walk(path: string, who?: Actor): Promise<number[]> {
  const ids: number[] = [];
  let url: string | null = path;
  for (let n = 0; url && n < 100; n++) {
    const { status, body } = await get(url, who);
    expect({ status, body: status === 200 ? 'ok' : body }).toEqual({ status: 200, body: 'ok' });
    ids.push(...(body as Page).results.map((p) => p.id));
    url = (body as Page).next;
  }
  return ids;
}

/** The reference answer, straight from SQL. */
async function expected(where: string, orderBy: string, params: unknown[] = []): Promise<number[]> {
  return (await sql<{ id: number }>(app, `select id from products p where ${where} order by ${orderBy}`, params)).map((r) => r.id);
}

const subtree = (root: number) =>
  `p.category_id in (with recursive s(id) as (select ${root} union all select c.id from categories c join s on c.parent_id = s.id) select id from s)`;

describe('ordering and cursor pagination', () => {
  it.each([
    ['-created_at', 'created_at desc, id desc'],
    ['created_at', 'created_at, id'],
    ['price', 'price, id'],
    ['-price', 'price desc, id desc'],
    ['name', 'name, id'],
    ['-name', 'name desc, id desc'],
    ['-rating', 'rating_avg desc, id desc'],
  ])('walks every active product by %s without gaps or repeats', async (ordering, orderBy) => {
    const ids = await walk(`/api/product/?page_size=7&ordering=${ordering}`);
    expect(ids).toEqual(await expected('p.is_active', orderBy));
  });

  it('defaults to newest first, and walks back with previous links', async () => {
    const first = await get('/api/product/?page_size=10');
    expect(first.body.previous).toBeNull();
    let page = first;
    const seen: number[][] = [first.body.results.map((p: Summary) => p.id)];
    while (page.body.next) {
      page = await get(page.body.next);
      seen.push(page.body.results.map((p: Summary) => p.id));
    }
    const back: number[][] = [];
    while (page.body.previous) {
      page = await get(page.body.previous);
      back.unshift(page.body.results.map((p: Summary) => p.id));
    }
    expect(back).toEqual(seen.slice(0, -1));
  });

  it('walks a category subtree, by id or slug, in every ordering, with filters', async () => {
    const filters = 'min_price=10&max_price=30&in_stock=true';
    const where = `p.is_active and ${subtree(cat.outdoor.id)} and p.price between 10 and 30 and p.in_stock`;
    expect(await walk(`/api/product/?category=${cat.outdoor.id}&${filters}&ordering=price&page_size=4`)).toEqual(await expected(where, 'price, id'));
    expect(await walk(`/api/product/?category=outdoor&${filters}&ordering=-name&page_size=4`)).toEqual(await expected(where, 'name desc, id desc'));
    expect(await walk(`/api/product/?category=footwear&ordering=-created_at&page_size=5`)).toEqual(
      await expected(`p.is_active and ${subtree(cat.footwear.id)}`, 'created_at desc, id desc'),
    );
    expect(await walk(`/api/product/?category=trail&page_size=5`)).toEqual(await expected(`p.is_active and p.category_id = ${cat.trail.id}`, 'created_at desc, id desc'));
  });

  it('answers an empty page for an unknown category', async () => {
    const { body } = await get('/api/product/?category=no-such-category');
    expect(body).toEqual({ next: null, previous: null, results: [] });
  });

  it('filters by one or several brands, vendor and availability', async () => {
    expect(await walk('/api/product/?brand=Acme&ordering=price')).toEqual(await expected("p.is_active and p.brand = 'Acme'", 'price, id'));
    expect(await walk('/api/product/?brand=Acme&brand=Cirrus&ordering=price')).toEqual(
      await expected("p.is_active and p.brand in ('Acme', 'Cirrus')", 'price, id'),
    );
    expect(await walk(`/api/product/?vendor=${other.user.id}&in_stock=false`)).toEqual(
      await expected(`p.is_active and p.vendor_id = ${other.user.id} and not p.in_stock`, 'created_at desc, id desc'),
    );
  });

  it('shows list fields only, in the contract’s shape', async () => {
    const { body } = await get(`/api/product/?brand=Borealis&page_size=1&ordering=price`);
    const p = firstOf(body.results as Summary[]);
    expect(Object.keys(p).sort()).toEqual(
      ['brand', 'category', 'created_at', 'currency', 'id', 'image', 'in_stock', 'is_active', 'name', 'price', 'price_range', 'rating', 'slug', 'stock', 'vendor'].sort(),
    );
    expect(p.image).toMatch(/^https:\/\/cdn\.example\.com\/p\d+\.jpg$/);
    expect(p.price).toMatch(/^\d+\.\d\d$/);
  });
});

describe('search', () => {
  it('finds words in the description, ranked, and typos in the name', async () => {
    const hits = await walk('/api/product/?search=waterproof');
    expect(hits.sort()).toEqual((await expected("p.is_active and p.description like 'Waterproof%'", 'id')).sort());
    const typo = await get('/api/product/?search=jackt');
    expect(typo.body.results.length).toBeGreaterThan(0);
    expect(typo.body.results.every((p: Summary) => p.name.startsWith('Trail jacket'))).toBe(true);
    const plus = await get('/api/product/?search=wool+sock');
    expect(plus.status).toBe(200);
    expect(plus.body.results.length).toBeGreaterThan(0);
    const phrase = await get('/api/product/?search=%22wool%20sock%22&ordering=price');
    expect(phrase.body.results.every((p: Summary) => p.name.startsWith('Wool sock'))).toBe(true);
  });

  it('pages through relevance-ranked results without repeats', async () => {
    const ids = await walk('/api/product/?search=shoe%20OR%20sock&page_size=3');
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe((await expected("p.is_active and (p.name like 'Running shoe%' or p.name like 'Wool sock%')", 'id')).length);
  });

  it('pages through typo (trigram) matches with cursors that keep the fallback mode', async () => {
    const ids = await walk('/api/product/?search=jackt&page_size=3');
    expect(ids.length).toBe((await expected("p.is_active and p.name like 'Trail jacket%'", 'id')).length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses relevance ordering without a search', async () => {
    const { status, body } = await get('/api/product/?ordering=relevance');
    expect(status).toBe(400);
    expect(body.errors[0].field).toBe('query.ordering');
  });
});

describe('counts and numbered pages', () => {
  it('omits count on cursor pages unless asked; counts exactly or estimates on request', async () => {
    const total = (await expected('p.is_active', 'id')).length;
    expect((await get('/api/product/')).body.count).toBeUndefined();
    const exact = await get('/api/product/?count=exact&in_stock=true');
    expect(exact.body).toMatchObject({ count: (await expected('p.is_active and p.in_stock', 'id')).length, count_is_estimate: false });
    const estimate = await get('/api/product/?count=estimate');
    expect(estimate.body.count_is_estimate).toBe(true);
    expect(estimate.body.count).toBeGreaterThan(0);
    const numbered = await get('/api/product/?page=2&page_size=10&ordering=price&count=exact');
    expect(numbered.body.count).toBe(total);
    expect(numbered.body.results.map((p: Summary) => p.id)).toEqual((await expected('p.is_active', 'price, id')).slice(10, 20));
    expect(new URL(numbered.body.next).searchParams.get('page')).toBe('3');
    expect(new URL(numbered.body.previous).searchParams.get('page')).toBe('1');
    expect((await get('/api/product/?page=1&count=none')).body.count).toBeUndefined();
  });
});

describe('bad input', () => {
  it.each([
    ['min_price=abc', 'query.min_price'],
    ['max_price=1.234', 'query.max_price'],
    ['ordering=popularity', 'query.ordering'],
    ['page_size=101', 'query.page_size'],
    ['in_stock=maybe', 'query.in_stock'],
    ['category=Not%20A%20Slug', 'query.category'],
    ['vendor=x', 'query.vendor'],
    [`${Array.from({ length: 21 }, (_, i) => `brand=b${i}`).join('&')}`, 'query.brand'],
    ['colour=red', 'query.colour'],
  ])('answers 400 for %s', async (qs, field) => {
    const { status, body } = await get(`/api/product/?${qs}`);
    expect(status).toBe(400);
    expect(body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('answers 400 INVALID_CURSOR for a tampered cursor or one from another ordering', async () => {
    const { body } = await get('/api/product/?ordering=price&page_size=5');
    const cursor = new URL(body.next).searchParams.get('cursor')!;
    expect((await get(`/api/product/?ordering=name&cursor=${cursor}`)).body.code).toBe('INVALID_CURSOR');
    const [data, sig] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify(['products:price', 0, ['0.00', 1]])).toString('base64url');
    for (const bad of [`${forged}.${sig}`, `${data}.x${sig}`, 'nonsense']) {
      const res = await get(`/api/product/?ordering=price&cursor=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    }
  });
});

describe('visibility and caching', () => {
  it('lists inactive products for admins (all) and vendors (their own), never for shoppers', async () => {
    expect((await get('/api/product/?status=all')).status).toBe(403);
    const customer = await actor(app);
    expect((await get('/api/product/?status=inactive', customer)).status).toBe(403);
    expect(await walk('/api/product/?status=inactive', admin)).toEqual(await expected('not p.is_active', 'created_at desc, id desc'));
    expect(await walk('/api/product/?status=inactive', other)).toEqual([]);
    expect(await walk('/api/product/?status=inactive', vendor)).toEqual(
      await expected(`not p.is_active and p.vendor_id = ${vendor.user.id}`, 'created_at desc, id desc'),
    );
    expect(await walk('/api/product/?status=all&page_size=50', vendor)).toEqual(
      await expected(`(p.is_active or p.vendor_id = ${vendor.user.id})`, 'created_at desc, id desc'),
    );
  });

  it('lets caches keep anonymous answers briefly, never signed-in ones', async () => {
    const anon = await get('/api/product/');
    expect(anon.headers.get('cache-control')).toBe('public, max-age=30');
    expect(anon.headers.get('vary')).toMatch(/Authorization/);
    expect(anon.headers.get('etag')).toMatch(/^"/);
    expect((await get('/api/product/', vendor)).headers.get('cache-control')).toBe('no-store');
  });
});

describe('GET /api/product/facets/', () => {
  it('counts brands, availability, price buckets and subcategories for the filtered set', async () => {
    const { status, body } = await get(`/api/product/facets/?category=${cat.outdoor.id}`);
    expect(status).toBe(200);
    const inOutdoor = await expected(`p.is_active and ${subtree(cat.outdoor.id)}`, 'id');
    expect(body.total).toBe(inOutdoor.length);
    expect(body.categories.map((c: { slug: string }) => c.slug).sort()).toEqual(['clothing', 'footwear']);
    const footwear = body.categories.find((c: { slug: string }) => c.slug === 'footwear');
    expect(footwear.count).toBe((await expected(`p.is_active and ${subtree(cat.footwear.id)}`, 'id')).length);
    expect(body.availability.in_stock + body.availability.out_of_stock).toBe(inOutdoor.length);
    expect(body.price.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(inOutdoor.length);
    expect(body.price[0]).toEqual({ min: '0.00', max: '10.00', count: (await expected(`p.is_active and ${subtree(cat.outdoor.id)} and p.price < 10`, 'id')).length });
    expect(body.price.at(-1).max).toBeNull();
  });

  it('is disjunctive: a facet ignores its own filter but applies the others', async () => {
    const { body } = await get('/api/product/facets/?brand=Acme&in_stock=true');
    // Brand counts ignore brand=Acme (every brand shows) but apply in_stock.
    expect(body.brands.map((b: { value: string }) => b.value).sort()).toEqual(BRANDS);
    for (const b of body.brands) {
      expect(b.count).toBe((await expected(`p.is_active and p.in_stock and p.brand = '${b.value}'`, 'id')).length);
    }
    // Availability ignores in_stock but applies brand.
    expect(body.availability.out_of_stock).toBe((await expected("p.is_active and not p.in_stock and p.brand = 'Acme'", 'id')).length);
    expect(body.total).toBe((await expected("p.is_active and p.in_stock and p.brand = 'Acme'", 'id')).length);
    // Without a category, categories are the top level.
    expect(body.categories.map((c: { slug: string }) => c.slug).sort()).toEqual(['home', 'outdoor']);
  });

  it('rejects unknown parameters (no ordering or paging here)', async () => {
    expect((await get('/api/product/facets/?ordering=price')).status).toBe(400);
  });
});
