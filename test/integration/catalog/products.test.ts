import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { firstOf, itemAt } from '../../support/narrow';

let app: TestApp;
let admin: Actor;
let vendor: Actor;
let rival: Actor;
let customer: Actor;
let category: number;
beforeAll(async () => {
  app = await startApp();
  [admin, vendor, rival, customer] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app, 'vendor'), actor(app)]);
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

const productRow = async (id: number) =>
  firstOf(await sql<{ price: string; max_price: string; stock: number; in_stock: boolean; is_active: boolean; name: string }>(
    app, 'select price, max_price, stock, in_stock, is_active, name from products where id = ?', [id],
  ));

describe('creating products', () => {
  it('creates a product with a default variant from its price, stock and SKU', async () => {
    const sku = uniqueName('TEE').toUpperCase();
    const { data, response } = await vendor.api.POST('/api/product/', {
      body: { name: 'Plain Tee', category, sku, price: '19.9', stock: 7, brand: ' Basics ', images: ['https://cdn.example.com/tee.jpg'], description: 'Cotton.' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`${app.baseUrl}/api/product/${data!.id}/`);
    expect(data).toMatchObject({
      name: 'Plain Tee', slug: 'plain-tee', sku, brand: 'Basics', vendor: vendor.user.id, category, price: '19.90',
      price_range: { min: '19.90', max: '19.90' }, currency: 'USD', stock: 7, in_stock: true, is_active: true,
      rating: { average: '0.00', count: 0 }, images: ['https://cdn.example.com/tee.jpg'],
    });
    expect(data!.variants).toHaveLength(1);
    expect(data!.variants[0]).toMatchObject({ sku, price: '19.90', stock: 7, in_stock: true, product: data!.id });
    expect(data!.breadcrumbs.map((b) => b.id)).toEqual([category]);
  });

  it('creates a product with explicit variants; price and stock derive from the active ones', async () => {
    const base = uniqueName('SHOE').toUpperCase();
    const { data } = await vendor.api.POST('/api/product/', {
      body: {
        name: 'Runner', category, sku: base,
        variants: [
          { sku: `${base}-41`, price: '89.00', stock: 2, attributes: { size: '41' } },
          { sku: `${base}-42`, price: '99.50', stock: 0, attributes: { size: '42' } },
          { sku: `${base}-43`, price: '49.00', stock: 9, is_active: false },
        ],
      },
    });
    expect(data).toMatchObject({ price: '89.00', price_range: { min: '89.00', max: '99.50' }, stock: 2, in_stock: true });
    expect(data!.variants.map((v) => v.sku)).toEqual([`${base}-41`, `${base}-42`, `${base}-43`]);
  });

  it('lets an admin create a product for a vendor, but not for a customer', async () => {
    const made = await makeProduct(admin, category, { vendor: vendor.user.id });
    expect(made.vendor).toBe(vendor.user.id);
    const bad = await admin.api.POST('/api/product/', { body: { name: 'X', category, sku: uniqueName('X'), price: '1.00', vendor: customer.user.id } });
    expect(bad.response.status).toBe(422);
    expect(bad.error!.code).toBe('UNKNOWN_VENDOR');
    const forOther = await vendor.api.POST('/api/product/', { body: { name: 'X', category, sku: uniqueName('X'), price: '1.00', vendor: rival.user.id } });
    expect(forOther.response.status).toBe(403);
  });

  it('refuses customers (403) and anonymous callers (401), writing nothing', async () => {
    const sku = uniqueName('NOPE');
    expect((await customer.api.POST('/api/product/', { body: { name: 'X', category, sku, price: '1.00' } })).response.status).toBe(403);
    expect((await app.api.POST('/api/product/', { body: { name: 'X', category, sku, price: '1.00' } })).response.status).toBe(401);
    expect(await sql(app, 'select 1 from products where sku = ?', [sku])).toHaveLength(0);
  });

  it.each([
    ['a float price', { price: 19.99 }, 'body.price'],
    ['three decimals', { price: '1.999' }, 'body.price'],
    ['a negative stock', { price: '1.00', stock: -1 }, 'body.stock'],
    ['a bad image URL', { price: '1.00', images: ['not a url'] }, 'body.images[0]'],
    ['an unknown field', { price: '1.00', colour: 'red' }, 'body.colour'],
    ['a bad SKU', { price: '1.00', sku: 'has space' }, 'body.sku'],
  ])('answers 400 for %s', async (_c, extra, field) => {
    const res = await fetch(`${app.baseUrl}/api/product/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${vendor.tokens.access}` },
      body: JSON.stringify({ name: 'Bad', category, sku: uniqueName('BAD'), ...extra }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
  });

  it('answers 422 for a missing category or price, and 409 for a taken SKU or slug, writing nothing', async () => {
    const count = async () => Number(firstOf(await sql<{ n: number }>(app, 'select count(*)::int as n from products')).n);
    const before = await count();
    const noCat = await vendor.api.POST('/api/product/', { body: { name: 'X', category: 999999, sku: uniqueName('X'), price: '1.00' } });
    expect(noCat.error!.code).toBe('UNKNOWN_CATEGORY');
    const noPrice = await vendor.api.POST('/api/product/', { body: { name: 'X', category, sku: uniqueName('X') } });
    expect(noPrice.response.status).toBe(422);
    expect(noPrice.error!.code).toBe('PRICE_REQUIRED');
    const taken = await makeProduct(vendor, category);
    const dupSku = await vendor.api.POST('/api/product/', { body: { name: 'X', category, sku: taken.sku, price: '1.00' } });
    expect(dupSku.response.status).toBe(409);
    expect(dupSku.error!.code).toBe('SKU_TAKEN');
    const dupVariantSku = await vendor.api.POST('/api/product/', {
      body: { name: 'X', category, sku: uniqueName('X'), variants: [{ sku: 'SAME-1', price: '1.00' }, { sku: 'SAME-1', price: '2.00' }] },
    });
    expect(dupVariantSku.error!.code).toBe('SKU_TAKEN');
    const dupSlug = await vendor.api.POST('/api/product/', { body: { name: 'X', category, sku: uniqueName('X'), price: '1.00', slug: taken.slug } });
    expect(dupSlug.error!.code).toBe('SLUG_TAKEN');
    expect(await count()).toBe(before + 1);
  });
});

describe('reading products', () => {
  it('shows active products to anyone, cacheably; inactive ones only to their vendor and admins', async () => {
    const p = await makeProduct(vendor, category);
    const pub = await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } });
    expect(pub.response.status).toBe(200);
    expect(pub.response.headers.get('cache-control')).toBe('public, max-age=30');
    expect(pub.response.headers.get('vary')).toMatch(/Authorization/);
    const etag = pub.response.headers.get('etag')!;
    // fetch() adds "Cache-Control: no-cache" to conditional requests unless told otherwise.
    const again = await fetch(`${app.baseUrl}/api/product/${p.id}/`, { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
    expect((await vendor.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).response.headers.get('cache-control')).toBe('no-store');

    await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(404);
    expect((await customer.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(404);
    expect((await rival.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(404);
    expect((await vendor.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.is_active).toBe(false);
    expect((await admin.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(200);
  });

  it('hides inactive variants from shoppers but not from the vendor', async () => {
    const base = uniqueName('V').toUpperCase();
    const p = await makeProduct(vendor, category, { variants: [{ sku: `${base}-a`, price: '5.00' }, { sku: `${base}-b`, price: '6.00', is_active: false }] });
    expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.variants.map((v) => v.sku)).toEqual([`${base}-a`]);
    expect((await vendor.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!.variants).toHaveLength(2);
    const hidden = itemAt(p.variants, 1).id;
    expect((await app.api.GET('/api/variant/{id}/', { params: { path: { id: hidden } } })).response.status).toBe(404);
    expect((await vendor.api.GET('/api/variant/{id}/', { params: { path: { id: hidden } } })).response.status).toBe(200);
  });

  it('answers 404 for unknown ids and 400 for malformed ones', async () => {
    expect((await app.api.GET('/api/product/{id}/', { params: { path: { id: 99999999 } } })).response.status).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/product/abc/`)).status).toBe(400);
    expect((await fetch(`${app.baseUrl}/api/product/0/`)).status).toBe(400);
  });
});

describe('changing products', () => {
  it('lets the vendor update their product; price and stock go to a single variant', async () => {
    const p = await makeProduct(vendor, category, { price: '10.00', stock: 1 });
    const { data } = await vendor.api.PATCH('/api/product/{id}/', {
      params: { path: { id: p.id } },
      body: { name: 'Renamed', price: '12.5', stock: 0, brand: 'Acme' },
    });
    expect(data).toMatchObject({ name: 'Renamed', brand: 'Acme', price: '12.50', stock: 0, in_stock: false });
    expect(data!.variants[0]).toMatchObject({ price: '12.50', stock: 0 });
  });

  it('refuses price and stock on a product with several variants (409 PRODUCT_HAS_VARIANTS)', async () => {
    const base = uniqueName('M').toUpperCase();
    const p = await makeProduct(vendor, category, { variants: [{ sku: `${base}-1`, price: '1.00' }, { sku: `${base}-2`, price: '2.00' }] });
    const res = await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { price: '3.00', name: 'Changed too?' } });
    expect(res.response.status).toBe(409);
    expect(res.error!.code).toBe('PRODUCT_HAS_VARIANTS');
    expect((await productRow(p.id)).name).toBe(p.name);
  });

  it("answers 403 to another vendor for a visible product and 404 for an inactive one; nothing changes", async () => {
    const p = await makeProduct(vendor, category);
    const res = await rival.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { name: 'Stolen' } });
    expect(res.response.status).toBe(403);
    expect(res.error!.code).toBe('NOT_OWNER');
    expect((await rival.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(403);
    await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    expect((await rival.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { name: 'Stolen' } })).response.status).toBe(404);
    expect((await customer.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { name: 'Stolen' } })).response.status).toBe(403);
    const row = await productRow(p.id);
    expect(row.name).toBe(p.name);
    // Admins may change anyone's product.
    expect((await admin.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: true } })).data!.is_active).toBe(true);
  });

  it('deletes a product with its variants', async () => {
    const p = await makeProduct(vendor, category);
    expect((await vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
    expect(await sql(app, 'select 1 from products where id = ?', [p.id])).toHaveLength(0);
    expect(await sql(app, 'select 1 from product_variants where product_id = ?', [p.id])).toHaveLength(0);
  });

  it('deactivates instead of deleting a product that history refers to', async () => {
    const p = await makeProduct(vendor, category);
    // Stand-in for order history until orders exist: any row referencing the product restricts deletion.
    await sql(app, 'create table if not exists history_ref (product_id int references products(id) on delete restrict)');
    await sql(app, 'insert into history_ref values (?)', [p.id]);
    expect((await vendor.api.DELETE('/api/product/{id}/', { params: { path: { id: p.id } } })).response.status).toBe(204);
    expect((await productRow(p.id)).is_active).toBe(false);
  });
});

describe('variants', () => {
  it('adds, changes and deletes variants; the product follows in the same transaction', async () => {
    const p = await makeProduct(vendor, category, { price: '20.00', stock: 1 });
    const sku = uniqueName('EXTRA').toUpperCase();
    const created = await vendor.api.POST('/api/variant/', { body: { product: p.id, sku, price: '15.00', stock: 4, attributes: { colour: 'blue' } } });
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get('location')).toBe(`${app.baseUrl}/api/variant/${created.data!.id}/`);
    expect(await productRow(p.id)).toMatchObject({ price: '15.00', max_price: '20.00', stock: 5, in_stock: true });

    await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: created.data!.id } }, body: { price: '25.00', stock: 0 } });
    expect(await productRow(p.id)).toMatchObject({ price: '20.00', max_price: '25.00', stock: 1 });
    await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { is_active: false } });
    expect(await productRow(p.id)).toMatchObject({ price: '25.00', max_price: '25.00', stock: 0, in_stock: false });

    expect((await vendor.api.DELETE('/api/variant/{id}/', { params: { path: { id: created.data!.id } } })).response.status).toBe(204);
    expect(await productRow(p.id)).toMatchObject({ price: '20.00', stock: 0 });
    const last = await vendor.api.DELETE('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } } });
    expect(last.response.status).toBe(409);
    expect(last.error!.code).toBe('LAST_VARIANT');
  });

  it('keeps at least one variant when its last two are deleted at once', async () => {
    const base = uniqueName('TWO').toUpperCase();
    const p = await makeProduct(vendor, category, { variants: [{ sku: `${base}-1`, price: '1.00' }, { sku: `${base}-2`, price: '2.00' }] });
    const results = await Promise.all(p.variants.map((v) => vendor.api.DELETE('/api/variant/{id}/', { params: { path: { id: v.id } } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([204, 409]);
    expect(await sql(app, 'select 1 from product_variants where product_id = ?', [p.id])).toHaveLength(1);
  });

  it('refuses an update to a taken slug or SKU (409) or to a missing category (422), and changes nothing', async () => {
    const p = await makeProduct(vendor, category);
    const other = await makeProduct(vendor, category);
    const patch = (body: { slug?: string; category?: number }) => vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { name: 'Renamed', ...body } });
    expect((await patch({ slug: other.slug })).error).toMatchObject({ status: 409, code: 'SLUG_TAKEN' });
    expect((await patch({ category: 999999 })).error).toMatchObject({ status: 422, code: 'UNKNOWN_CATEGORY' });
    const variant = await vendor.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { sku: other.variants[0].sku, stock: 1 } });
    expect(variant.error).toMatchObject({ status: 409, code: 'SKU_TAKEN' });
    expect(firstOf(await sql<{ name: string; slug: string; category_id: number }>(app, 'select name, slug, category_id from products where id = ?', [p.id]))).toEqual({ name: p.name, slug: p.slug, category_id: category });
    expect(firstOf(await sql<{ sku: string; stock: number }>(app, 'select sku, stock from product_variants where id = ?', [p.variants[0].id]))).toEqual({ sku: p.variants[0].sku, stock: p.variants[0].stock });
  });

  it("answers 403 NOT_OWNER to another vendor deleting a variant of a visible product, and deletes nothing", async () => {
    const base = uniqueName('OWN').toUpperCase();
    const p = await makeProduct(vendor, category, { variants: [{ sku: `${base}-1`, price: '1.00' }, { sku: `${base}-2`, price: '2.00' }] });
    const res = await rival.api.DELETE('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } } });
    expect(res.error).toMatchObject({ status: 403, code: 'NOT_OWNER' });
    expect(await sql(app, 'select 1 from product_variants where product_id = ?', [p.id])).toHaveLength(2);
  });

  it("guards other vendors' variants and refuses unknown products", async () => {
    const p = await makeProduct(vendor, category);
    expect((await rival.api.POST('/api/variant/', { body: { product: p.id, sku: uniqueName('R'), price: '1.00' } })).response.status).toBe(403);
    expect((await rival.api.PATCH('/api/variant/{id}/', { params: { path: { id: p.variants[0].id } }, body: { stock: 999 } })).response.status).toBe(403);
    const v = firstOf(await sql<{ stock: number }>(app, 'select stock from product_variants where id = ?', [p.variants[0].id]));
    expect(v.stock).toBe(5);
    const unknown = await vendor.api.POST('/api/variant/', { body: { product: 99999999, sku: uniqueName('R'), price: '1.00' } });
    expect(unknown.response.status).toBe(422);
    expect(unknown.error!.code).toBe('UNKNOWN_PRODUCT');
    const dup = await vendor.api.POST('/api/variant/', { body: { product: p.id, sku: p.sku, price: '1.00' } });
    expect(dup.error!.code).toBe('SKU_TAKEN');
    for (const body of [{ product: p.id, sku: 'x' }, { product: p.id, sku: 'x', price: '1.00', extra: 1 }, { sku: 'x', price: '1.00' }]) {
      const res = await fetch(`${app.baseUrl}/api/variant/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${vendor.tokens.access}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
    }
  });

  it('lists variants of a product, in stock or not', async () => {
    const base = uniqueName('L').toUpperCase();
    const p = await makeProduct(vendor, category, {
      variants: [{ sku: `${base}-1`, price: '1.00', stock: 0 }, { sku: `${base}-2`, price: '2.00', stock: 3 }],
    });
    const all = await app.api.GET('/api/variant/', { params: { query: { product: p.id } } });
    expect(all.data!.results.map((v) => v.sku)).toEqual([`${base}-1`, `${base}-2`]);
    const inStock = await app.api.GET('/api/variant/', { params: { query: { product: p.id, in_stock: true } } });
    expect(inStock.data!.results.map((v) => v.sku)).toEqual([`${base}-2`]);
  });

  it('never lets stock go below zero, even when asked directly', async () => {
    const p = await makeProduct(vendor, category, { stock: 1 });
    await expect(sql(app, 'update product_variants set stock = stock - 2 where id = ?', [p.variants[0].id])).rejects.toThrow(/check constraint/);
  });
});
