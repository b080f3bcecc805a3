import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct, type MadeProduct } from '../../support/catalog';
import { actor, type Actor, sql, uniqueName } from '../../support/factories';
import { gql } from '../../support/graphql';
import { rawExchange } from '../../support/raw-http';

/**
 * Issue 12, "Bad input is a 400 that names the field, never a 500": whatever a hostile client
 * sends, the answer is a 4xx problem document naming what was wrong, and nothing is written.
 */
let app: TestApp;
let admin: Actor;
let vendor: Actor;
let customer: Actor;
let category: number;
let product: MadeProduct;
beforeAll(async () => {
  app = await startApp();
  [admin, vendor, customer] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app)]);
  category = (await makeCategory(admin)).id;
  product = await makeProduct(vendor, category, { brand: uniqueName('Brand') });
});
afterAll(() => app.close());

const NUL = '\u0000';

interface Problem {
  status: number;
  code: string;
  errors?: { field: string; message: string }[];
}

async function send(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: (text ? JSON.parse(text) : undefined) as Problem };
}

/** Rows of the tables a refused request could have written to. */
async function counts() {
  const [row] = await sql<Record<string, number>>(
    app,
    `select (select count(*)::int from users) as users, (select count(*)::int from addresses) as addresses,
            (select count(*)::int from reviews) as reviews, (select count(*)::int from products) as products,
            (select count(*)::int from product_variants) as variants, (select count(*)::int from discounts) as discounts,
            (select count(*)::int from cart_items) as cart_items, (select count(*)::int from carts where coupon_code is not null) as coupons,
            (select string_agg(coalesce(first_name, '') || coalesce(phone, ''), ',' order by id) from users) as profiles`,
  );
  return row;
}

function expectRefusal(res: { status: number; type: string; body: Problem }, field: string) {
  expect(res.status).toBe(400);
  expect(res.type).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe('VALIDATION_ERROR');
  expect(res.body.errors).toContainEqual({ field, message: expect.stringMatching(/U\+0000/) });
}

describe('U+0000 (NUL) is refused at the edge, naming the field, for every operation', () => {
  const cases: [string, () => { method: string; path: string; body?: unknown; token?: string }, string][] = [
    ['register', () => ({ method: 'POST', path: '/api/auth/register/', body: { username: `ada${NUL}`, email: 'ada@example.com', password: 'a-good-password-123' } }), 'body.username'],
    ['register (password)', () => ({ method: 'POST', path: '/api/auth/register/', body: { username: uniqueName(), email: 'x@example.com', password: `a-good-password${NUL}` } }), 'body.password'],
    ['login', () => ({ method: 'POST', path: '/api/auth/jwt/login/', body: { username: `a${NUL}b`, password: 'whatever-password' } }), 'body.username'],
    ['profile', () => ({ method: 'PATCH', path: '/api/auth/me/', body: { first_name: `Ada${NUL}` }, token: customer.tokens.access }), 'body.first_name'],
    ['address', () => ({ method: 'POST', path: '/api/address/', token: customer.tokens.access, body: { recipient_name: 'A', line1: `1 Main${NUL}`, city: 'X', postal_code: '12345', country: 'US' } }), 'body.line1'],
    ['review', () => ({ method: 'POST', path: '/api/review/', token: customer.tokens.access, body: { product: product.id, rating: 5, title: `Great${NUL}` } }), 'body.title'],
    ['product', () => ({ method: 'POST', path: '/api/product/', token: vendor.tokens.access, body: { name: `Tee${NUL}`, category, sku: uniqueName('SKU').toUpperCase(), price: '1.00' } }), 'body.name'],
    ['variant attributes (value)', () => ({ method: 'POST', path: '/api/variant/', token: vendor.tokens.access, body: { product: product.id, sku: uniqueName('SKU').toUpperCase(), price: '1.00', attributes: { colour: `red${NUL}` } } }), 'body.attributes.colour'],
    ['variant attributes (name)', () => ({ method: 'POST', path: '/api/variant/', token: vendor.tokens.access, body: { product: product.id, sku: uniqueName('SKU').toUpperCase(), price: '1.00', attributes: { [`col${NUL}our`]: 'red' } } }), 'body.attributes.col\\u0000our'],
    ['a coupon code', () => ({ method: 'POST', path: '/api/cart/coupon/', token: customer.tokens.access, body: { code: `SAVE${NUL}` } }), 'body.code'],
    ['a discount', () => ({ method: 'POST', path: '/api/discount/', token: admin.tokens.access, body: { code: 'NULCODE', kind: 'fixed', value: '1', description: `x${NUL}` } }), 'body.description'],
    ['search', () => ({ method: 'GET', path: `/api/product/?search=${encodeURIComponent(`shoe${NUL}`)}` }), 'query.search'],
    ['the brand filter', () => ({ method: 'GET', path: `/api/product/?brand=A&brand=${encodeURIComponent(`B${NUL}`)}` }), 'query.brand[1]'],
    ['facets', () => ({ method: 'GET', path: `/api/product/facets/?search=${encodeURIComponent(`${NUL}`)}` }), 'query.search'],
    ['a query parameter name', () => ({ method: 'GET', path: `/api/product/?${encodeURIComponent(`sea${NUL}rch`)}=x` }), 'query.sea\\u0000rch'],
    ['a path parameter', () => ({ method: 'GET', path: '/api/product/%00/' }), 'path.id'],
    ['a path parameter of a write', () => ({ method: 'PATCH', path: '/api/cart/update/1%00/', token: customer.tokens.access, body: { quantity: 1 } }), 'path.item_id'],
  ];

  it.each(cases)('%s', async (_name, make, field) => {
    const before = await counts();
    const { method, path, ...options } = make();
    expectRefusal(await send(method, path, options), field);
    expect(await counts()).toEqual(before);
  });

  it('names every offending field of one request', async () => {
    const res = await send('POST', '/api/auth/register/', { body: { username: `a${NUL}`, email: 'a@example.com', password: `p${NUL}assword-long`, first_name: `A${NUL}` } });
    expect(res.status).toBe(400);
    expect(res.body.errors!.map((e) => e.field).sort()).toEqual(['body.first_name', 'body.password', 'body.username']);
  });

  it('refuses a NUL in a header with a problem document naming the header (Node refuses it before the app)', async () => {
    const answer = await rawExchange(
      app.baseUrl,
      `POST /api/order/ HTTP/1.1\r\nHost: 127.0.0.1\r\nIdempotency-Key: abc${NUL}def\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', errors: [{ field: 'header.Idempotency-Key' }] });
  });

  it('answers a malformed request line with a problem document too', async () => {
    const answer = await rawExchange(app.baseUrl, 'GET /api/ HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });

  it('walks a deeply nested body without crashing', async () => {
    const deep = `${'['.repeat(20_000)}"x\\u0000"${']'.repeat(20_000)}`;
    const res = await fetch(`${app.baseUrl}/api/auth/register/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('VALIDATION_ERROR');
    expect(problem.errors![0]!.field).toBe(`body${'[0]'.repeat(20_000)}`.slice(0, 255) + '…');
  });

  it('GraphQL: a NUL in a variable is VALIDATION_ERROR naming the variable, and nothing runs', async () => {
    const before = await counts();
    const r = await gql(app, 'mutation($code: String!) { applyCoupon(code: $code) { id } }', { code: `SAVE${NUL}` }, customer.tokens.access);
    expect(r.data ?? null).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, errors: [{ field: 'variables.code', message: expect.stringMatching(/U\+0000/) }] });
    expect(JSON.stringify(r)).not.toMatch(/select|insert|update |from /i);
    expect(await counts()).toEqual(before);
  });

  it('GraphQL: a NUL in a literal argument names the field and argument', async () => {
    const r = await gql(app, `{ products(filter: { search: "shoe\\u0000", brand: ["A", "B\\u0000"] }) { edges { cursor } } }`);
    expect(r.data ?? null).toBeNull();
    expect(r.errors![0]!.extensions).toMatchObject({
      code: 'VALIDATION_ERROR',
      status: 400,
      errors: [
        { field: 'products.filter.search', message: expect.stringMatching(/U\+0000/) },
        { field: 'products.filter.brand[1]', message: expect.stringMatching(/U\+0000/) },
      ],
    });
    const nested = await gql(app, 'mutation { postReview(input: { product: 1, rating: 5, title: "x\\u0000" }) { id } }', undefined, customer.tokens.access);
    expect(nested.errors![0]!.extensions).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'postReview.input.title' }] });
  });
});

describe('path and query integers are plain decimal integers', () => {
  it('answers the product by its plain id', async () => {
    expect((await send('GET', `/api/product/${product.id}/`)).status).toBe(200);
  });

  it.each([
    ['hexadecimal', (id: number) => `0x${id.toString(16)}`],
    ['binary', (id: number) => `0b${id.toString(2)}`],
    ['octal', (id: number) => `0o${id.toString(8)}`],
    ['a leading space', (id: number) => `%20${id}`],
    ['a trailing space', (id: number) => `${id}%20`],
    ['a plus sign', (id: number) => `+${id}`],
    ['an exponent', (id: number) => `${id}e0`],
    ['a leading zero', (id: number) => `0${id}`],
    ['a fraction', (id: number) => `${id}.0`],
  ])('refuses %s in a path id with 400 naming path.id', async (_name, spell) => {
    const res = await send('GET', `/api/product/${spell(product.id)}/`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'path.id' }] });
  });

  it('refuses a spelled id on a write, and changes nothing', async () => {
    const before = await counts();
    const res = await send('DELETE', `/api/product/0x${product.id.toString(16)}/`, { token: vendor.tokens.access });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'path.id', message: expect.any(String) }]);
    expect(await counts()).toEqual(before);
    expect((await send('GET', `/api/product/${product.id}/`)).status).toBe(200);
  });

  it.each([
    ['page_size=0x10', 'query.page_size'],
    ['page_size=%2B5', 'query.page_size'],
    ['page=1e0', 'query.page'],
    [`vendor=0${1}`, 'query.vendor'],
  ])('refuses %s naming %s', async (query, field) => {
    const res = await send('GET', `/api/product/?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field }] });
  });
});

describe('a category filter of digits beyond any id', () => {
  it.each([['2147483648'], ['99999999999999999999']])('%s matches no category, as any missing id (no 500)', async (value) => {
    const list = await send('GET', `/api/product/?category=${value}`);
    expect(list.status).toBe(200);
    expect((list.body as unknown as { results: unknown[] }).results).toEqual([]);
    const facets = await send('GET', `/api/product/facets/?category=${value}`);
    expect(facets.status).toBe(200);
    expect((facets.body as unknown as { total: number }).total).toBe(0);
    const r = await gql(app, `{ products(filter: { category: "${value}" }) { edges { cursor } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.products.edges).toEqual([]);
  });
});

describe('array parameters in bracket style mean what repeating the name means', () => {
  let brandA: string;
  let brandB: string;
  let ids: number[];
  beforeAll(async () => {
    brandA = uniqueName('Acme');
    brandB = uniqueName('Bolt');
    const made = await Promise.all([
      makeProduct(vendor, category, { brand: brandA }),
      makeProduct(vendor, category, { brand: brandB }),
      makeProduct(vendor, category, { brand: uniqueName('Other') }),
    ]);
    ids = made.slice(0, 2).map((p) => p.id).sort((a, b) => a - b);
  });

  const listIds = async (query: string) => {
    const res = await send('GET', `/api/product/?${query}`);
    expect(res.status).toBe(200);
    return ((res.body as unknown as { results: { id: number }[] }).results.map((p) => p.id)).sort((a, b) => a - b);
  };
  const brands = (query: string) => query.replace(/A/g, encodeURIComponent(brandA)).replace(/B(?=&|$)/g, encodeURIComponent(brandB));

  it.each([
    ['brand=A&brand=B'],
    ['brand[]=A&brand[]=B'],
    ['brand%5B%5D=A&brand%5B%5D=B'],
    ['brand[0]=A&brand[1]=B'],
    ['brand[1]=B&brand[0]=A'],
    ['brand=A&brand[]=B'],
  ])('products: %s lists both brands', async (query) => {
    expect(await listIds(brands(query))).toEqual(ids);
  });

  it('facets: the bracket forms count the same products as repeating the name', async () => {
    const facets = async (query: string) => {
      const res = await send('GET', `/api/product/facets/?${brands(query)}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const plain = await facets('brand=A&brand=B');
    expect(await facets('brand[]=A&brand[]=B')).toEqual(plain);
    expect(await facets('brand[0]=A&brand[1]=B')).toEqual(plain);
  });

  it.each([['brand[x]=A'], ['brand[0][name]=A'], ['brand]=A'], ['brand[-1]=A']])('refuses %s with 400 naming it', async (query) => {
    const res = await send('GET', `/api/product/?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors![0]!.field).toMatch(/^query\.brand/);
  });

  it('a bracket form of a parameter that is not an array is a 400, not a silent answer', async () => {
    const res = await send('GET', '/api/product/?search[]=shoe');
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.field).toBe('query.search');
  });
});

describe('timestamps are real calendar instants', () => {
  const discount = (valid_from: string, code = uniqueName('D').toUpperCase()) =>
    send('POST', '/api/discount/', { token: admin.tokens.access, body: { code, kind: 'fixed', value: '1', valid_from } });

  it.each([
    ['month 13', '2030-13-01T00:00:00Z'],
    ['day 30 of February', '2030-02-30T00:00:00Z'],
    ['29 February of a common year', '2030-02-29T00:00:00Z'],
    ['day 32', '2030-01-32T00:00:00Z'],
    ['an offset of +25:00', '2030-01-01T00:00:00+25:00'],
    ['an offset of +01:60', '2030-01-01T00:00:00+01:60'],
    ['a leap second', '2030-12-31T23:59:60Z'],
    ['hour 24', '2030-01-01T24:00:00Z'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['a year that an offset takes below 0001', '0001-01-01T00:00:00+01:00'],
    ['a year that an offset takes past 9999', '9999-12-31T23:59:59-01:00'],
    ['no offset', '2030-01-01T00:00:00'],
    ['a space for T', '2030-01-01 00:00:00Z'],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_name, value) => {
    const before = await counts();
    const res = await discount(value);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors!.map((e) => e.field)).toContain('body.valid_from');
    expect(await counts()).toEqual(before);
  });

  it('refuses an impossible date on update too', async () => {
    const created = await discount('2030-01-01T00:00:00Z');
    expect(created.status).toBe(201);
    const id = (created.body as unknown as { id: number }).id;
    const res = await send('PATCH', `/api/discount/${id}/`, { token: admin.tokens.access, body: { valid_to: '2031-02-29T00:00:00Z' } });
    expect(res.status).toBe(400);
    expect(res.body.errors!.map((e) => e.field)).toContain('body.valid_to');
    expect(firstValidTo(await sql<{ valid_to: Date | null }>(app, 'select valid_to from discounts where id = ?', [id]))).toBeNull();
  });

  it.each([
    ['29 February of a leap year', '2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['an offset', '2030-06-01T08:30:00+05:30', '2030-06-01T03:00:00.000Z'],
    ['lower-case t and z, and a fraction', '2030-06-01t08:30:00.250z', '2030-06-01T08:30:00.250Z'],
    ['year 0001', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('accepts %s and stores exactly that instant', async (_name, value, stored) => {
    const res = await discount(value);
    expect(res.status).toBe(201);
    expect((res.body as unknown as { valid_from: string }).valid_from).toBe(stored);
  });
});

const firstValidTo = (rows: { valid_to: Date | null }[]) => rows[0]?.valid_to ?? null;

describe('product images', () => {
  it.each([
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['JavaScript: in mixed case', 'JaVaScRiPt:alert(1)'],
    ['data:', 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4='],
    ['http:', 'http://cdn.example.com/a.jpg'],
    ['a relative URL', '/images/a.jpg'],
    ['a protocol-relative URL', '//cdn.example.com/a.jpg'],
  ])('refuses a %s image on create and update, storing nothing', async (_name, url) => {
    const before = await counts();
    const create = await send('POST', '/api/product/', { token: vendor.tokens.access, body: { name: 'Tee', category, sku: uniqueName('SKU').toUpperCase(), price: '1.00', images: ['https://cdn.example.com/ok.jpg', url] } });
    expect(create.status).toBe(400);
    expect(create.body.errors!.map((e) => e.field)).toContain('body.images[1]');
    const update = await send('PATCH', `/api/product/${product.id}/`, { token: vendor.tokens.access, body: { images: [url] } });
    expect(update.status).toBe(400);
    expect(update.body.errors!.map((e) => e.field)).toContain('body.images[0]');
    expect(await counts()).toEqual(before);
    const [row] = await sql<{ images: string[] }>(app, 'select images from products where id = ?', [product.id]);
    expect(row!.images).not.toContain(url);
  });

  it('stores https: images', async () => {
    const res = await send('PATCH', `/api/product/${product.id}/`, { token: vendor.tokens.access, body: { images: ['https://cdn.example.com/a.jpg', 'HTTPS://CDN.example.com/b.jpg'] } });
    expect(res.status).toBe(200);
    expect((res.body as unknown as { images: string[] }).images).toEqual(['https://cdn.example.com/a.jpg', 'HTTPS://CDN.example.com/b.jpg']);
  });
});
