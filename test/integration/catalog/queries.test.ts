import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor } from '../../support/factories';
import { countStatements as during } from '../../support/statements';

/**
 * Lists load in a bounded number of statements, whatever the page size (no N+1): counted from the
 * ORM's query log while real requests run.
 */
let app: TestApp;
let vendor: Actor;
let productId: number;

beforeAll(async () => {
  app = await startApp();
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  const parent = await makeCategory(admin);
  const child = await makeCategory(admin, undefined, parent.id);
  for (let i = 0; i < 30; i++) {
    const base = `Q${i}-${Date.now()}`;
    const p = await makeProduct(vendor, i % 2 ? parent.id : child.id, {
      sku: base,
      variants: [{ sku: `${base}-a`, price: '5.00', stock: 1 }, { sku: `${base}-b`, price: '6.00', stock: 2 }],
    });
    productId = p.id;
  }
});
afterAll(() => app.close());

async function countStatements(path: string, who?: Actor): Promise<number> {
  const { result: res, statements } = await during(app, async () => {
    const response = await fetch(app.baseUrl + path, { headers: who ? { authorization: `Bearer ${who.tokens.access}` } : {} });
    await response.arrayBuffer();
    return response;
  });
  expect(res.status).toBe(200);
  return statements.length;
}

describe('statements per request', () => {
  it.each([
    ['a page of 20 products', '/api/product/?page_size=20', 1],
    ['a page of 100 products', '/api/product/?page_size=100', 1],
    ['a filtered category page', '/api/product/?category=1&in_stock=true&ordering=price', 1],
    ['a page with an exact count', '/api/product/?count=exact', 2],
    ['a page of variants', '/api/variant/?page_size=50', 1],
    ['the category tree', '/api/category/tree/', 1],
  ])('%s (%s): %i statement(s)', async (_c, path, n) => {
    expect(await countStatements(path)).toBe(n);
  });

  it('a product detail: product, variants and breadcrumbs in one statement', async () => {
    expect(await countStatements(`/api/product/${productId}/`)).toBe(1);
  });

  it('a signed-in caller adds one statement (loading the account)', async () => {
    expect(await countStatements('/api/product/?page_size=50', vendor)).toBe(2);
  });
});
