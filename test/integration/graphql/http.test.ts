import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, sql } from '../../support/factories';
import { codes, firstError, gql } from '../../support/graphql';
import { countStatements } from '../../support/statements';

let app: TestApp;
let productId: number;
beforeAll(async () => {
  app = await startApp();
  const admin = await actor(app, 'admin');
  const vendor = await actor(app, 'vendor');
  productId = (await makeProduct(vendor, (await makeCategory(admin)).id)).id;
});
afterAll(() => app.close());

describe('limits: refused while validating, before anything runs', () => {
  async function refused(query: string, code: string, variables?: Record<string, unknown>, token?: string) {
    const { result, statements } = await countStatements(app, () => gql(app, query, variables, token));
    expect(codes(result)).toEqual([code]);
    expect(firstError(result).extensions).toMatchObject({ status: 400, limit: expect.any(Number), actual: expect.any(Number) });
    expect(result.data).toBeUndefined();
    expect(statements).toEqual([]);
    return result;
  }

  it('depth', async () => {
    const nested = (levels: number) => `{ categoryTree { ${'children { '.repeat(levels)}id${' }'.repeat(levels)} } }`;
    expect((await gql(app, nested(6))).errors).toBeUndefined();
    const res = await refused(nested(7), 'QUERY_TOO_DEEP');
    expect(firstError(res).extensions).toMatchObject({ limit: 8, actual: 9 });
    // Fragments count too.
    await refused(
      `query { categoryTree { ...a } } fragment a on CategoryNode { children { children { children { ...b } } } }
       fragment b on CategoryNode { children { children { children { children { id } } } } }`,
      'QUERY_TOO_DEEP',
    );
  });

  it('aliases, even on a mutation (nothing is written)', async () => {
    const u = await actor(app);
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: categoryTree { id }`).join(' ')} }`;
    expect((await gql(app, aliases(12))).errors).toBeUndefined();
    await refused(aliases(13), 'TOO_MANY_ALIASES');
    const adds = Array.from({ length: 13 }, (_, i) => `w${i}: addToWishlist(product: ${productId}) { created }`).join(' ');
    await refused(`mutation { ${adds} }`, 'TOO_MANY_ALIASES', undefined, u.tokens.access);
    expect(await sql(app, 'select id from wishlists where user_id = ?', [u.user.id])).toEqual([]);
  });

  it('cost: page sizes multiply what is asked for each item, literal or by variable', async () => {
    const page = 'edges { node { id category { id } variants { id } reviews(first: 20) { id user { username } } } }';
    expect((await gql(app, `{ products(first: 10) { ${page} } }`)).errors).toBeUndefined();
    const res = await refused(`{ products(first: 100) { ${page} } }`, 'QUERY_TOO_COMPLEX');
    expect(firstError(res).extensions!.limit).toBe(1000);
    const q = `query($n: Int) { products(first: $n) { ${page} } }`;
    expect((await gql(app, q, { n: 10 })).errors).toBeUndefined();
    await refused(q, 'QUERY_TOO_COMPLEX', { n: 100 });
    // The document's validation is kept between requests; the cost is each request's own.
    expect((await gql(app, q, { n: 10 })).errors).toBeUndefined();
    await refused(q, 'QUERY_TOO_COMPLEX', { n: 100 });
  });

  it('keeps a refusal of one request from the next with the same document', async () => {
    const q = 'query($f: ProductFilter) { products(filter: $f, first: 1) { edges { node { id } } } }';
    const nul = await gql(app, q, { f: { search: 'a\u0000b' } });
    expect(codes(nul)).toEqual(['VALIDATION_ERROR']);
    expect((await gql(app, q, { f: { search: 'ab' } })).errors).toBeUndefined();
    // A document refused by validation stays refused, whatever the variables.
    const deep = `query($n: Int) { products(first: $n) { edges { node { id reviews(first: 20) { id user { username } } } } } categoryTree { ${'children { '.repeat(7)}id${' }'.repeat(7)} } }`;
    for (const n of [1, 100, 1]) expect(codes(await gql(app, deep, { n }))).toEqual(n === 100 ? ['QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX'] : ['QUERY_TOO_DEEP']);
  });

  it('introspection is not counted and stays available (the SDL is public)', async () => {
    const res = await gql(app, '{ __schema { queryType { name } types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.queryType.name).toBe('Query');
  });
});

describe('endpoint', () => {
  it('answers at /graphql/ and /graphql, by POST and by GET for queries', async () => {
    for (const path of ['/graphql/', '/graphql']) {
      const res = await fetch(`${app.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: '{ categoryTree { id } }' }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { categoryTree: unknown[] } }).data.categoryTree).toHaveLength(1);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    const get = await fetch(`${app.baseUrl}/graphql/?query=${encodeURIComponent('{ product(id: ' + productId + ') { id } }')}`, { headers: { accept: 'application/json' } });
    expect(await get.json()).toEqual({ data: { product: { id: productId } } });
    const mutation = await fetch(`${app.baseUrl}/graphql/?query=${encodeURIComponent('mutation { removeCoupon { id } }')}`, { headers: { accept: 'application/json' } });
    expect(mutation.status).toBe(405);
  });

  it('publishes the SDL at /graphql/schema.graphql', async () => {
    const res = await fetch(`${app.baseUrl}/graphql/schema.graphql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(readFileSync(join(__dirname, '../../../graphql/schema.graphql'), 'utf8'));
  });

  it('is linked from the REST API root', async () => {
    const { data } = await app.api.GET('/api/');
    expect(data!.graphql).toEqual({ endpoint: `${app.baseUrl}/graphql/`, schema: `${app.baseUrl}/graphql/schema.graphql` });
    expect((await fetch(data!.graphql!.schema)).status).toBe(200);
  });

  it('serves no GraphiQL outside development', async () => {
    const res = await fetch(`${app.baseUrl}/graphql/`, { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toMatch(/graphiql/i);
  });

  it('refuses malformed JSON and bodies that are not JSON (415); other routes under /graphql stay REST 404s', async () => {
    const bad = await fetch(`${app.baseUrl}/graphql/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('MALFORMED_JSON');
    for (const type of ['application/graphql', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${app.baseUrl}/graphql/`, { method: 'POST', headers: { 'content-type': type }, body: '{ categoryTree { id } }' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { code: string }).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const other = await fetch(`${app.baseUrl}/graphql/other`);
    expect(other.status).toBe(404);
  });
});

describe('development, body limit and rate limit', () => {
  let dev: TestApp;
  let limited: TestApp;
  beforeAll(async () => {
    [dev, limited] = await Promise.all([startApp({ NODE_ENV: 'development' }), startApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60', BODY_LIMIT: '2kb' })]);
  });
  afterAll(async () => {
    await Promise.all([dev?.close(), limited?.close()]);
  });

  it('serves a self-contained GraphiQL in development, with a CSP that lets it run', async () => {
    const res = await fetch(`${dev.baseUrl}/graphql/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/graphiql/i);
    // Self-contained: nothing is fetched from a CDN.
    expect(html).not.toMatch(/unpkg\.com/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-inline'");
  });

  it('applies the REST body limit (413) and the request rate limit (429)', async () => {
    const big = await fetch(`${limited.baseUrl}/graphql/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ categoryTree { id } }${' '.repeat(4096)}` }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await gql(limited, '{ categoryTree { id } }')).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
