import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { COLUMNS, csv, download, finished, upload } from '../../support/catalog-files';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { startTestWorker, type TestWorker } from '../../support/jobs';

/**
 * Catalog import and export over HTTP, with a worker applying imports in batches of 2 rows
 * (CATALOG_IMPORT_BATCH_ROWS), and a 64 KiB upload limit (CATALOG_IMPORT_MAX_BYTES).
 */
jest.setTimeout(120_000);

let app: TestApp;
let worker: TestWorker;
let admin: Actor;
let vendor: Actor;
let otherVendor: Actor;
let customer: Actor;
let category: { id: number; slug: string };
let otherCategory: { id: number; slug: string };

beforeAll(async () => {
  app = await startApp({ CATALOG_IMPORT_BATCH_ROWS: '2', CATALOG_IMPORT_MAX_BYTES: '65536' });
  worker = await startTestWorker(app);
  [admin, vendor, otherVendor, customer] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app, 'vendor'), actor(app, 'customer')]);
  category = await makeCategory(admin);
  otherCategory = await makeCategory(admin);
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

const sku = (prefix = 'IMP') => uniqueName(prefix).toUpperCase();
const header = ['product_sku', 'name', 'category', 'sku', 'variant_name', 'attributes', 'price', 'stock', 'weight_grams'];

/** Uploads and waits for the import to finish. */
async function imported(token: string, body: string, type = 'text/csv') {
  const sent = await upload(app, token, body, type);
  if (sent.status !== 202) throw new Error(`upload answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  return finished(app, token, sent.body.id);
}

const variantBySku = async (s: string) =>
  (await sql<{ id: number; product_id: number; price: string; stock: number; name: string; attributes: Record<string, string> }>(app, 'select id, product_id, price::text, stock, name, attributes from product_variants where sku = ?', [s]))[0];

describe('POST /api/product/import/', () => {
  it('creates products and variants by SKU, then updates them; stock changes enter the ledger as adjustments', async () => {
    const [a, b] = [sku('SHOE'), sku('CAP')];
    const file = csv(header, [
      [a, 'Trail shoe', category.id, `${a}-42`, 'Red / 42', '{"size":"42"}', '89.9', 5, 320],
      [a, 'Trail shoe', category.id, `${a}-43`, 'Red / 43', '{"size":"43"}', '89.90', 0, 330],
      [b, 'Cap', category.id, `${b}-1`, '', '', '12', 7, ''],
    ]);
    const sent = await upload(app, vendor.tokens.access, file);
    expect(sent.status).toBe(202);
    expect(sent.location).toMatch(new RegExp(`/api/product/import/${sent.body.id}/$`));
    expect(sent.body).toMatchObject({ status: 'queued', format: 'csv', rows_done: 0, rows_total: null, errors: [] });

    const done = await finished(app, vendor.tokens.access, sent.body.id);
    expect(done).toMatchObject({ status: 'succeeded', rows_total: 3, rows_done: 3, created: 3, updated: 0, rejected: 0, errors: [], failure_reason: null });
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    // The file is not kept once the import has ended.
    expect(await sql(app, 'select file is null as dropped from catalog_imports where id = ?', [done.id])).toEqual([{ dropped: true }]);

    const v42 = (await variantBySku(`${a}-42`))!;
    const product = (await vendor.api.GET('/api/product/{id}/', { params: { path: { id: v42.product_id } } })).data!;
    expect(product).toMatchObject({ name: 'Trail shoe', sku: a, slug: expect.stringMatching(/^trail-shoe/), category: category.id, vendor: vendor.user.id, price: '89.90', stock: 5 });
    expect(product.variants.map((v) => [v.sku, v.name, v.attributes, v.price, v.stock, v.weight_grams])).toEqual([
      [`${a}-42`, 'Red / 42', { size: '42' }, '89.90', 5, 320],
      [`${a}-43`, 'Red / 43', { size: '43' }, '89.90', 0, 330],
    ]);

    // The same SKUs again: updates, with only the given cells changed.
    const again = await imported(vendor.tokens.access, csv(['product_sku', 'name', 'sku', 'price', 'stock'], [
      [a, 'Trail shoe II', `${a}-42`, '79.00', 2],
      [b, 'Cap', `${b}-1`, '12.00', 9],
    ]));
    expect(again).toMatchObject({ status: 'succeeded', rows_done: 2, created: 0, updated: 2, rejected: 0 });
    const after = (await vendor.api.GET('/api/product/{id}/', { params: { path: { id: v42.product_id } } })).data!;
    expect(after).toMatchObject({ name: 'Trail shoe II', price: '79.00', category: category.id, stock: 2 });
    expect(after.variants.find((v) => v.sku === `${a}-42`)).toMatchObject({ name: 'Red / 42', attributes: { size: '42' }, stock: 2, weight_grams: 320 });
    const ledger = await sql<{ delta: number; reason: string; stock_after: number }>(app, 'select delta, reason, stock_after from inventory_movements where variant_id = ? order by id', [v42.id]);
    expect(ledger).toEqual([
      { delta: 5, reason: 'initial', stock_after: 5 },
      { delta: -3, reason: 'adjustment', stock_after: 2 },
    ]);
  });

  it('rejects rows the API would refuse, each with its row, field and reason, and applies the rest', async () => {
    const theirs = await makeProduct(otherVendor, category.id);
    const ok = sku('OK');
    const dup = sku('DUP');
    const long = 'x'.repeat(201);
    const file = csv([...header, 'currency'], [
      [ok, 'Fine', category.id, `${ok}-1`, '', '', '10.00', 1, 0, 'USD'],
      [sku(), 'Bad price', category.id, sku(), '', '', '10,5', 1, 0, ''],
      [sku(), 'Negative stock', category.id, sku(), '', '', '10.00', -1, 0, ''],
      [sku(), 'Nowhere', 999999, sku(), '', '', '10.00', 1, 0, ''],
      [sku(), long, category.id, sku(), '', '', '10.00', 1, 0, ''],
      [dup, 'Twice', category.id, `${dup}-1`, '', '', '10.00', 1, 0, ''],
      [dup, 'Twice', category.id, `${dup}-1`, '', '', '11.00', 1, 0, ''],
      [theirs.sku, 'Not mine', category.id, theirs.variants[0].sku, '', '', '1.00', 1, 0, ''],
      [sku(), 'No price', category.id, sku(), '', '', '', 1, 0, ''],
      [sku(), 'Euros', category.id, sku(), '', '', '10.00', 1, 0, 'EUR'],
      [sku(), 'Bad attributes', category.id, sku(), '', '[1]', '10.00', 1, 0, ''],
    ]);
    const done = await imported(vendor.tokens.access, file);
    expect(done).toMatchObject({ status: 'succeeded', rows_total: 11, rows_done: 11, created: 2, updated: 0, rejected: 9 });
    expect(done.errors.map((e) => [e.row, e.field])).toEqual([
      [2, 'price'],
      [3, 'stock'],
      [4, 'category'],
      [5, 'name'],
      [7, 'sku'],
      [8, 'product_sku'],
      [9, 'price'],
      [10, 'currency'],
      [11, 'attributes'],
    ]);
    const messages = Object.fromEntries(done.errors.map((e) => [e.row, e.message]));
    expect(messages[2]).toMatch(/pattern/);
    expect(messages[3]).toBe('must be a whole number');
    expect(messages[4]).toBe('Category 999999 does not exist.');
    expect(messages[5]).toMatch(/200/);
    expect(messages[7]).toBe('appears again in the file (first on row 6)');
    expect(messages[8]).toBe('is the SKU of another vendor’s product');
    expect(messages[9]).toBe('is required for a new variant');
    expect(messages[10]).toBe('must be USD, the store’s currency');
    // Nothing of the rejected rows was written; the other vendor's product is untouched.
    expect((await variantBySku(`${ok}-1`))?.price).toBe('10.00');
    expect((await variantBySku(`${dup}-1`))?.price).toBe('10.00');
    expect((await variantBySku(theirs.variants[0].sku))?.price).toBe('10.00');

    // Every rejected row, a page at a time.
    const first = await vendor.api.GET('/api/product/import/{id}/errors/', { params: { path: { id: done.id }, query: { page_size: 5 } } });
    expect(first.data!.results.map((e) => e.row)).toEqual([2, 3, 4, 5, 7]);
    const next = await fetch(first.data!.next!, { headers: { authorization: `Bearer ${vendor.tokens.access}` } });
    expect(((await next.json()) as { results: { row: number }[] }).results.map((e) => e.row)).toEqual([8, 9, 10, 11]);
    const numbered = await vendor.api.GET('/api/product/import/{id}/errors/', { params: { path: { id: done.id }, query: { page: 2, page_size: 5 } } });
    expect(numbered.data).toMatchObject({ count: 9, results: [{ row: 8 }, { row: 9 }, { row: 10 }, { row: 11 }] });
    const badCursor = await vendor.api.GET('/api/product/import/{id}/errors/', { params: { path: { id: done.id }, query: { cursor: 'nope' } } });
    expect(badCursor.response.status).toBe(400);
    expect(badCursor.error).toMatchObject({ code: 'INVALID_CURSOR' });
    const both = await vendor.api.GET('/api/product/import/{id}/errors/', { params: { path: { id: done.id }, query: { cursor: 'nope', page: 1 } } });
    expect(both.error).toMatchObject({ code: 'INVALID_PAGINATION' });
  });

  it('rejects what the product rules refuse: a taken slug, a new product without a category, rows of one product that disagree', async () => {
    const taken = await makeProduct(vendor, category.id);
    const [a, b, c] = [sku('SLUG'), sku('NOCAT'), sku('AGREE')];
    const done = await imported(vendor.tokens.access, csv(['product_sku', 'name', 'slug', 'category', 'category_slug', 'sku', 'price'], [
      [a, 'Slugged', taken.slug, category.id, '', `${a}-1`, '1.00'],
      [b, 'Nowhere', '', '', '', `${b}-1`, '1.00'],
      [c, 'Agreed', '', category.id, category.slug, `${c}-1`, '1.00'],
      [c, 'Disagreed', '', category.id, category.slug, `${c}-2`, '1.00'],
      [sku(), 'Two categories', '', category.id, otherCategory.slug, sku(), '1.00'],
    ]));
    expect(done.errors).toEqual([
      { row: 1, field: 'slug', message: `The slug ${taken.slug} is already used.` },
      { row: 2, field: 'category', message: 'is required for a new product' },
      { row: 4, field: 'name', message: 'differs from row 3, which gave this product’s columns' },
      { row: 5, field: 'category_slug', message: `names another category than category ${category.id}` },
    ]);
    expect(done).toMatchObject({ created: 1, rejected: 4 });
  });

  it('lets admins import for a vendor, and refuses vendors naming another vendor or a product of another vendor’s SKU', async () => {
    const p = sku('ADM');
    const done = await imported(admin.tokens.access, csv([...header, 'vendor'], [[p, 'For a vendor', category.id, `${p}-1`, '', '', '5.00', 1, 0, vendor.user.id]]));
    expect(done).toMatchObject({ created: 1, rejected: 0 });
    const made = (await variantBySku(`${p}-1`))!;
    expect((await sql<{ vendor_id: number }>(app, 'select vendor_id from products where id = ?', [made.product_id]))[0]?.vendor_id).toBe(vendor.user.id);

    const q = sku('OTH');
    const mine = sku('MINE');
    const refused = await imported(otherVendor.tokens.access, csv([...header, 'vendor'], [
      [q, 'Someone else’s', category.id, `${q}-1`, '', '', '5.00', 1, 0, vendor.user.id],
      // A new product of mine, but the variant SKU is another vendor's.
      [mine, 'Mine', category.id, `${p}-1`, '', '', '5.00', 1, 0, ''],
    ]));
    expect(refused.errors).toEqual([
      { row: 1, field: 'vendor', message: 'Vendors sell their own products: leave `vendor` out.' },
      { row: 2, field: 'sku', message: 'is the SKU of another vendor’s variant' },
    ]);
  });

  it('refuses a file the import cannot read: 400 at upload for its header, failed for a fault further in', async () => {
    const unknown = await upload(app, admin.tokens.access, 'product_sku,name,colour\n');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(unknown.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'body.colour', message: 'is not a column of the import' },
        { field: 'body.sku', message: 'is a required column' },
      ]),
    );
    const notJson = await upload(app, admin.tokens.access, 'not json\n', 'application/x-ndjson');
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors).toEqual([{ field: 'body', message: 'the first line is not valid JSON' }]);
    expect(await sql(app, 'select id from catalog_imports where user_id = ? and rows_total is null', [admin.user.id])).toEqual([]);

    // A quote never closed, after a good row: nothing is applied, the import fails with the reason.
    const good = sku('GOOD');
    const broken = `${csv(header, [[good, 'Good', category.id, `${good}-1`, '', '', '1.00', 1, 0]])}${sku()},"Broken,${category.id},X,,,1.00,1,0\n`;
    const failed = await imported(admin.tokens.access, broken);
    expect(failed).toMatchObject({ status: 'failed', rows_done: 0, created: 0 });
    expect(failed.failure_reason).toMatch(/not valid CSV/);
    expect(await variantBySku(`${good}-1`)).toBeUndefined();

    const badLine = await imported(admin.tokens.access, `{"sku":"${sku()}","name":"A","category":${category.id},"variants":[{"sku":"${sku()}","price":"1.00"}]}\n{oops\n`, 'application/x-ndjson');
    expect(badLine).toMatchObject({ status: 'failed', failure_reason: 'Line 2 is not valid JSON.' });
  });

  it('answers 413 for a file over CATALOG_IMPORT_MAX_BYTES and 415 for another media type; nothing is stored', async () => {
    const before = await sql<{ n: number }>(app, 'select count(*)::int as n from catalog_imports');
    const big = await upload(app, admin.tokens.access, `${COLUMNS.join(',')}\n${'x'.repeat(70_000)}\n`);
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const json = await upload(app, admin.tokens.access, JSON.stringify({ sku: 'X' }), 'application/json');
    expect(json.status).toBe(415);
    expect(json.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await sql<{ n: number }>(app, 'select count(*)::int as n from catalog_imports')).toEqual(before);
  });

  it('is for admins and vendors; an import is seen by its uploader and admins only', async () => {
    const file = csv(header, [[sku(), 'Mine', category.id, sku(), '', '', '1.00', 1, 0]]);
    expect((await upload(app, null, file)).status).toBe(401);
    const byCustomer = await upload(app, customer.tokens.access, file);
    expect(byCustomer.status).toBe(403);
    expect(byCustomer.body).toMatchObject({ code: 'FORBIDDEN' });

    const mine = await imported(vendor.tokens.access, file);
    const other = await otherVendor.api.GET('/api/product/import/{id}/', { params: { path: { id: mine.id } } });
    expect(other.response.status).toBe(404);
    expect(other.error).toMatchObject({ code: 'NOT_FOUND' });
    const otherErrors = await otherVendor.api.GET('/api/product/import/{id}/errors/', { params: { path: { id: mine.id } } });
    expect(otherErrors.response.status).toBe(404);
    expect((await admin.api.GET('/api/product/import/{id}/', { params: { path: { id: mine.id } } })).data).toMatchObject({ id: mine.id, status: 'succeeded' });
    expect((await customer.api.GET('/api/product/import/{id}/', { params: { path: { id: mine.id } } })).response.status).toBe(403);
    expect((await app.api.GET('/api/product/import/{id}/', { params: { path: { id: mine.id } } })).response.status).toBe(401);
    expect((await vendor.api.GET('/api/product/import/{id}/', { params: { path: { id: 2147483647 } } })).response.status).toBe(404);
  });

  it('announces product.created, product.updated and variant.stock_changed for what a batch changed, in its transaction', async () => {
    const seen: string[] = [];
    const p = sku('EVT');
    const mine = (productSku: string) => productSku === p;
    app.services.events.on('product.created', async (_tx, e) => void (mine(e.sku) && seen.push(`created ${e.sku} ${e.price} ${e.stock}`)));
    app.services.events.on('product.updated', async (_tx, e) => void (mine(e.sku) && seen.push(`updated ${e.sku} ${e.price} ${e.stock}`)));
    app.services.events.on('variant.stock_changed', async (_tx, e) => void (e.sku.startsWith(p) && seen.push(`stock ${e.sku} ${e.previousStock}->${e.stock}`)));
    await imported(vendor.tokens.access, csv(header, [[p, 'Evented', category.id, `${p}-1`, '', '', '3.00', 4, 0]]));
    // The same row again changes nothing: no event.
    await imported(vendor.tokens.access, csv(header, [[p, 'Evented', category.id, `${p}-1`, '', '', '3.00', 4, 0]]));
    await imported(vendor.tokens.access, csv(['product_sku', 'sku', 'stock'], [[p, `${p}-1`, 1]]));
    expect(seen).toEqual([`created ${p} 3.00 4`, `updated ${p} 3.00 1`, `stock ${p}-1 4->1`]);
  });

  it('reads JSON Lines: one product per line, its variants as rows', async () => {
    const p = sku('JL');
    const lines = [
      { sku: p, name: 'Lined', category: category.slug, brand: 'Stride', images: ['https://cdn.example.com/a.jpg'], variants: [{ sku: `${p}-S`, price: '3.50', stock: 2 }, { sku: `${p}-M`, price: '4', attributes: { size: 'M' } }] },
      { sku: sku(), name: 'No variants', category: category.id, variants: [] },
      { sku: sku(), name: 'Odd', category: category.id, colour: 'red', variants: [{ sku: sku(), price: '1.00' }] },
    ];
    const done = await imported(admin.tokens.access, lines.map((l) => JSON.stringify(l)).join('\n'), 'application/x-ndjson');
    expect(done).toMatchObject({ status: 'succeeded', rows_total: 4, created: 2, rejected: 2 });
    expect(done.errors).toEqual([
      { row: 2, field: 'variants', message: 'must list at least one variant' },
      { row: 3, field: 'colour', message: 'is not a member of the import' },
    ]);
    const s = (await variantBySku(`${p}-S`))!;
    const product = (await admin.api.GET('/api/product/{id}/', { params: { path: { id: s.product_id } } })).data!;
    expect(product).toMatchObject({ brand: 'Stride', images: ['https://cdn.example.com/a.jpg'], price: '3.50', price_range: { min: '3.50', max: '4.00' }, stock: 2 });
  });
});

describe('GET /api/product/export/', () => {
  it('streams the caller’s products with a filter, as CSV and JSON Lines', async () => {
    const cat = await makeCategory(admin);
    const sub = await makeCategory(admin, uniqueName('sub'), cat.id);
    const inCat = await makeProduct(vendor, sub.id, { brand: 'Norvik', description: 'Line one, "quoted"\nline two' });
    const inactive = await makeProduct(vendor, cat.id, { is_active: false });
    const theirs = await makeProduct(otherVendor, cat.id);
    await makeProduct(vendor, otherCategory.id);

    const file = await download(app, vendor.tokens.access, { category: cat.slug });
    expect(file.status).toBe(200);
    expect(file.type).toBe('text/csv; charset=utf-8');
    expect(file.disposition).toBe('attachment; filename="products.csv"');
    const [head, ...rows] = parseCsv(file.text);
    expect(head).toEqual(COLUMNS);
    // Vendors get their own products (active or not), in id order; the filter's subtree only.
    expect(rows.map((r) => r[0])).toEqual([inCat.sku, inactive.sku]);
    expect(rows[0]).toEqual([
      inCat.sku, inCat.name, inCat.slug, 'Line one, "quoted"\nline two', 'Norvik', String(sub.id), sub.slug, String(vendor.user.id), 'standard', 'true', '',
      inCat.variants[0].sku, '', '{}', '10.00', 'USD', '5', '0', 'true',
    ]);
    expect(rows[1]![9]).toBe('false');

    const all = await download(app, admin.tokens.access, { category: String(cat.id), format: 'jsonl', brand: 'Norvik' });
    expect(all.type).toBe('application/x-ndjson; charset=utf-8');
    expect(all.disposition).toBe('attachment; filename="products.jsonl"');
    const lines = all.text.trim().split('\n').map((l) => JSON.parse(l) as { sku: string; variants: unknown[] });
    expect(lines).toEqual([expect.objectContaining({ sku: inCat.sku, category: sub.id, category_slug: sub.slug, currency: 'USD', variants: [expect.objectContaining({ sku: inCat.variants[0].sku, price: '10.00', stock: 5 })] })]);
    const adminAll = await download(app, admin.tokens.access, { category: cat.slug });
    expect(parseCsv(adminAll.text).slice(1).map((r) => r[0])).toEqual([inCat.sku, inactive.sku, theirs.sku]);

    // A vendor asking for another vendor's products gets none; nothing matches: the header alone.
    expect(parseCsv((await download(app, vendor.tokens.access, { vendor: String(otherVendor.user.id) })).text)).toEqual([COLUMNS]);
    expect((await download(app, vendor.tokens.access, { search: 'zzzzqqqq-nothing', format: 'jsonl' })).text).toBe('');
  });

  it('is for admins and vendors, and checks its filter', async () => {
    expect((await download(app, null)).status).toBe(401);
    const byCustomer = await download(app, customer.tokens.access);
    expect(byCustomer.status).toBe(403);
    const bad = await download(app, admin.tokens.access, { format: 'xml' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ code: 'VALIDATION_ERROR', errors: [expect.objectContaining({ field: 'query.format' })] });
  });

  it('round-trips: an exported file imports as it is and gives the same catalog back', async () => {
    const cat = await makeCategory(admin);
    const p1 = await makeProduct(vendor, cat.id, { description: 'Tab\tand, comma', images: ['https://cdn.example.com/1.jpg', 'https://cdn.example.com/2.jpg'], tax_class: 'reduced' });
    const extra = sku('V');
    await vendor.api.POST('/api/variant/', { body: { product: p1.id, sku: extra, name: 'Blue / L', attributes: { colour: 'blue', size: 'L' }, price: '12.34', stock: 3, weight_grams: 250, is_active: false } });
    const p2 = await makeProduct(vendor, cat.id, { is_active: false });

    for (const format of ['csv', 'jsonl'] as const) {
      const before = await download(app, vendor.tokens.access, { category: cat.slug, format });
      // Change the catalog, then import the file taken before: it comes back as it was.
      await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p1.id } }, body: { name: 'Renamed', images: [], is_active: false } });
      await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p2.id } }, body: { price: '99.00', stock: 0 } });
      const done = await imported(vendor.tokens.access, before.text, format === 'csv' ? 'text/csv' : 'application/x-ndjson');
      expect(done).toMatchObject({ status: 'succeeded', rows_total: 3, created: 0, updated: 3, rejected: 0 });
      const after = await download(app, vendor.tokens.access, { category: cat.slug, format });
      expect(after.text).toBe(before.text);
    }

    // Into an empty catalog: the same file (SKUs and slugs changed) creates the same products.
    const csvFile = (await download(app, vendor.tokens.access, { category: cat.slug })).text;
    const renamed = csvFile.replace(new RegExp(`(${p1.sku}|${p2.sku}|${extra})`, 'g'), '$1-COPY').replace(new RegExp(`(${p1.slug}|${p2.slug})`, 'g'), '$1-copy');
    const copy = await imported(vendor.tokens.access, renamed);
    expect(copy).toMatchObject({ created: 3, rejected: 0 });
    const copied = (await download(app, vendor.tokens.access, { category: cat.slug })).text.split('\n').filter((l) => l.includes('-COPY'));
    expect(copied.join('\n')).toBe(renamed.split('\n').filter((l) => l.includes('-COPY')).join('\n'));
  });
});

/** A CSV text as rows of cells (quotes and newlines inside quotes handled). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\n') {
      endCell();
      rows.push(row);
      row = [];
    } else if (c !== '\r') cell += c;
  }
  if (cell || row.length) {
    endCell();
    rows.push(row);
  }
  return rows;
}
