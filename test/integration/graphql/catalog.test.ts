import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, uniqueName } from '../../support/factories';
import { codes, firstError, gql } from '../../support/graphql';
import { firstOf, itemAt, lastOf } from '../../support/narrow';
import { countStatements } from '../../support/statements';

let app: TestApp;
let admin: Actor;
let vendor: Actor;
let otherVendor: Actor;
let root: { id: number; slug: string };
let child: number;
let other: number;
const ids: number[] = [];

const PRODUCT_IDS = `query($filter: ProductFilter, $ordering: ProductOrdering, $first: Int, $after: String, $last: Int, $before: String) {
  products(filter: $filter, ordering: $ordering, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

type Page = { edges: { cursor: string; node: { id: number } }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } };

async function graphqlIds(variables: Record<string, unknown>): Promise<number[]> {
  const res = await gql<{ products: Page }>(app, PRODUCT_IDS, { first: 100, ...variables });
  expect(res.errors).toBeUndefined();
  return res.data!.products.edges.map((e) => e.node.id);
}

async function restIds(query: string): Promise<number[]> {
  const res = await fetch(`${app.baseUrl}/api/product/?page_size=100${query ? `&${query}` : ''}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { id: number }[] }).results.map((r) => r.id);
}

beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
  [vendor, otherVendor] = await Promise.all([actor(app, 'vendor'), actor(app, 'vendor')]);
  const rootCategory = await makeCategory(admin);
  root = { id: rootCategory.id, slug: rootCategory.slug };
  child = (await makeCategory(admin, uniqueName('sub'), root.id)).id;
  other = (await makeCategory(admin)).id;
  const specs = [
    { category: root.id, price: '5.00', stock: 3, brand: 'Acme', name: 'Trail runner shoe' },
    { category: child, price: '15.00', stock: 0, brand: 'Acme', name: 'Road runner shoe' },
    { category: child, price: '25.00', stock: 7, brand: 'Zeta', name: 'Hiking boot' },
    { category: other, price: '35.00', stock: 2, brand: 'Zeta', name: 'Rain jacket' },
    { category: other, price: '45.00', stock: 9, brand: 'Omni', name: 'Wool sweater' },
    { category: root.id, price: '55.00', stock: 1, brand: 'Omni', name: 'Alpine tent' },
    { category: child, price: '65.00', stock: 4, brand: 'Acme', name: 'Sleeping bag' },
  ];
  for (const [i, s] of specs.entries()) {
    const seller = i % 3 === 2 ? otherVendor : vendor;
    const p = await makeProduct(seller, s.category, { price: s.price, stock: s.stock, brand: s.brand, name: s.name });
    ids.push(p.id);
  }
});
afterAll(() => app.close());

describe('products: the same answers as GET /api/product/', () => {
  it.each([
    ['no filter', {}, ''],
    ['a category id with its descendants', { category: '__root_id__' }, 'category=__root_id__'],
    ['a category slug with its descendants', { category: '__root_slug__' }, 'category=__root_slug__'],
    ['a price range', { min_price: '10', max_price: '50.00' }, 'min_price=10&max_price=50.00'],
    ['in stock', { in_stock: true }, 'in_stock=true'],
    ['out of stock', { in_stock: false }, 'in_stock=false'],
    ['brands', { brand: ['Acme', 'Omni'] }, 'brand=Acme&brand=Omni'],
    ['a vendor', { vendor: '__vendor__' }, 'vendor=__vendor__'],
    ['a search', { search: 'runner' }, 'search=runner'],
    ['a search with a typo', { search: 'sweatr' }, 'search=sweatr'],
  ])('%s', async (_name, filter, query) => {
    const fill = (v: unknown) =>
      v === '__root_id__' ? String(root.id) : v === '__root_slug__' ? root.slug : v === '__vendor__' ? vendor.user.id : v;
    const gqlFilter = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, fill(v)]));
    const restQuery = query.replace('__root_id__', String(root.id)).replace('__root_slug__', root.slug).replace('__vendor__', String(vendor.user.id));
    const expected = await restIds(restQuery);
    expect(expected.length).toBeGreaterThan(0);
    expect(await graphqlIds({ filter: gqlFilter })).toEqual(expected);
  });

  it.each([
    ['PRICE', 'price'],
    ['PRICE_DESC', '-price'],
    ['CREATED_AT', 'created_at'],
    ['CREATED_AT_DESC', '-created_at'],
    ['NAME', 'name'],
    ['NAME_DESC', '-name'],
    ['RATING_DESC', '-rating'],
  ])('ordering %s is REST ordering %s', async (ordering, rest) => {
    const expected = await restIds(`ordering=${rest}`);
    expect(expected).toHaveLength(ids.length);
    expect(await graphqlIds({ ordering })).toEqual(expected);
  });

  it('orders a search by relevance like REST', async () => {
    expect(await graphqlIds({ filter: { search: 'shoe' }, ordering: 'RELEVANCE' })).toEqual(await restIds('search=shoe&ordering=relevance'));
  });

  it('pages forward by cursor like the REST next links, and back with last/before', async () => {
    const rest: number[][] = [];
    let url: string | null = `${app.baseUrl}/api/product/?page_size=3&ordering=price`;
    while (url) {
      const body = (await (await fetch(url)).json()) as { next: string | null; results: { id: number }[] };
      rest.push(body.results.map((r) => r.id));
      url = body.next;
    }
    const pages: Page[] = [];
    let after: string | null = null;
    do {
      const res: { data?: { products: Page } | null } = await gql<{ products: Page }>(app, PRODUCT_IDS, { ordering: 'PRICE', first: 3, after });
      pages.push(res.data!.products);
      after = res.data!.products.pageInfo.hasNextPage ? res.data!.products.pageInfo.endCursor : null;
    } while (after);
    expect(pages.map((p) => p.edges.map((e) => e.node.id))).toEqual(rest);
    expect(firstOf(pages).pageInfo.hasPreviousPage).toBe(false);
    expect(itemAt(pages, 1).pageInfo.hasPreviousPage).toBe(true);
    expect(lastOf(pages).pageInfo.hasNextPage).toBe(false);

    // Back from the start of the last page: the page before it.
    const back = await gql<{ products: Page }>(app, PRODUCT_IDS, { ordering: 'PRICE', last: 3, before: itemAt(pages, 2).pageInfo.startCursor });
    expect(back.data!.products.edges.map((e) => e.node.id)).toEqual(rest[1]);
    expect(back.data!.products.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    // A REST next cursor is the same token: GraphQL accepts it as `after`.
    const restPage = (await (await fetch(`${app.baseUrl}/api/product/?page_size=3&ordering=price`)).json()) as { next: string };
    const cursor = new URL(restPage.next).searchParams.get('cursor');
    expect(await graphqlIds({ ordering: 'PRICE', first: 3, after: cursor })).toEqual(rest[1]);
  });

  it('refuses altered cursors, cursors of another ordering, and bad page sizes with stable codes', async () => {
    const first = await gql<{ products: Page }>(app, PRODUCT_IDS, { ordering: 'PRICE', first: 2 });
    const cursor = first.data!.products.pageInfo.endCursor!;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    for (const variables of [
      { ordering: 'PRICE', after: tampered },
      { ordering: 'PRICE', after: 'not-a-cursor' },
      { ordering: 'NAME', after: cursor },
      { ordering: 'PRICE', last: 2, before: tampered },
    ]) {
      const res = await gql(app, PRODUCT_IDS, variables);
      expect(codes(res)).toEqual(['INVALID_CURSOR']);
      expect(firstError(res).extensions).toMatchObject({ status: 400 });
      expect(res.data).toBeNull();
    }
    for (const variables of [{ first: 0 }, { first: 101 }]) {
      expect(codes(await gql(app, PRODUCT_IDS, variables))).toEqual(['VALIDATION_ERROR']);
    }
    for (const variables of [{ first: 2, last: 2, before: cursor }, { last: 2 }]) {
      expect(codes(await gql(app, PRODUCT_IDS, variables))).toEqual(['INVALID_PAGINATION']);
    }
  });

  it('checks filters with the REST parameters rules', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ min_price: 'cheap' }, 'filter.min_price'],
      [{ max_price: '-1' }, 'filter.max_price'],
      [{ category: 'Not A Slug!' }, 'filter.category'],
      [{ vendor: 0 }, 'filter.vendor'],
      [{ search: '' }, 'filter.search'],
    ];
    for (const [filter, field] of cases) {
      const res = await gql(app, PRODUCT_IDS, { filter });
      expect(codes(res)).toEqual(['VALIDATION_ERROR']);
      expect(firstError(res).extensions!.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(codes(await gql(app, PRODUCT_IDS, { ordering: 'RELEVANCE' }))).toEqual(['VALIDATION_ERROR']);
    // A value of the wrong GraphQL type never reaches a resolver.
    expect(codes(await gql(app, PRODUCT_IDS, { ordering: 'price' }))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});

describe('product', () => {
  const DETAIL = `query($id: Int, $slug: String) { product(id: $id, slug: $slug) {
    id name slug description brand sku vendor price price_range { min max } currency stock in_stock rating { average count }
    image images tax_class is_active created_at updated_at breadcrumbs { id name slug }
    category { id name slug parent }
    variants { id product sku name attributes { name value } price currency stock in_stock weight_grams is_active created_at updated_at }
    reviews(first: 2) { id rating user { username } }
  } }`;

  it('answers what GET /api/product/{id}/ answers, by id or slug, with category, variants and reviews', async () => {
    const p = await makeProduct(vendor, child, {
      variants: [
        { sku: uniqueName('V').toUpperCase(), price: '12.50', stock: 2, attributes: { size: 'M' } },
        { sku: uniqueName('V').toUpperCase(), price: '14.00', stock: 0, attributes: { size: 'L' } },
      ],
      images: ['https://img.example.com/1.jpg', 'https://img.example.com/2.jpg'],
      description: 'Warm',
    });
    const [r1, r2, r3] = [await actor(app), await actor(app), await actor(app)];
    for (const [i, r] of [r1, r2, r3].entries()) {
      expect((await r.api.POST('/api/review/', { body: { product: p.id, rating: 3 + i } })).response.status).toBe(201);
    }
    const rest = (await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } })).data!;
    const byId = await gql(app, DETAIL, { id: p.id });
    expect(byId.errors).toBeUndefined();
    const { category, variants, reviews, image, ...fields } = byId.data.product;
    const { category: restCategory, variants: restVariants, ...restFields } = rest;
    expect(fields).toEqual(restFields);
    expect(image).toBe('https://img.example.com/1.jpg');
    expect(category).toMatchObject({ id: restCategory, parent: root.id });
    expect(variants).toEqual(restVariants.map((v) => ({ ...v, attributes: Object.entries(v.attributes).map(([name, value]) => ({ name, value })) })));
    expect(reviews.map((r: { user: { username: string } }) => r.user.username)).toEqual([r3.user.username, r2.user.username]);

    const bySlug = await gql(app, DETAIL, { slug: p.slug });
    expect(bySlug.data).toEqual(byId.data);
  });

  it('is null when missing or not for sale; its vendor still sees it', async () => {
    const p = await makeProduct(vendor, root.id, { is_active: false });
    expect((await gql(app, DETAIL, { id: p.id })).data).toEqual({ product: null });
    expect((await gql(app, DETAIL, { slug: 'no-such-product' })).data).toEqual({ product: null });
    expect((await gql(app, DETAIL, { id: 2_000_000_000 })).data).toEqual({ product: null });
    expect((await gql(app, DETAIL, { id: p.id }, otherVendor.tokens.access)).data).toEqual({ product: null });
    const mine = await gql(app, DETAIL, { id: p.id }, vendor.tokens.access);
    expect(mine.data.product).toMatchObject({ id: p.id, is_active: false });
  });

  it('wants exactly one valid key', async () => {
    expect(codes(await gql(app, DETAIL, {}))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await gql(app, DETAIL, { id: ids[0], slug: 'x' }))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await gql(app, DETAIL, { id: 0 }))).toEqual(['VALIDATION_ERROR']);
    expect(codes(await gql(app, '{ product(id: 1) { reviews(first: 21) { id } } }'))).toEqual(['VALIDATION_ERROR']);
  });

  it('pages reviews like GET /api/review/?product=', async () => {
    const p = await makeProduct(vendor, root.id);
    for (let i = 0; i < 4; i++) {
      const a = await actor(app);
      await a.api.POST('/api/review/', { body: { product: p.id, rating: 5 } });
    }
    const rest = (await app.api.GET('/api/review/', { params: { query: { product: p.id } } })).data!.results.map((r) => r.id);
    const q = `query($p: Int!, $after: String) { reviews(product: $p, first: 3, after: $after) { edges { node { id product } } pageInfo { hasNextPage endCursor } } }`;
    const first = await gql(app, q, { p: p.id });
    const second = await gql(app, q, { p: p.id, after: first.data.reviews.pageInfo.endCursor });
    const seen = [...first.data.reviews.edges, ...second.data.reviews.edges].map((e: { node: { id: number } }) => e.node.id);
    expect(seen).toEqual(rest);
    expect(first.data.reviews.pageInfo.hasNextPage).toBe(true);
    expect(second.data.reviews.pageInfo.hasNextPage).toBe(false);
  });
});

it('categoryTree answers GET /api/category/tree/', async () => {
  const rest = (await app.api.GET('/api/category/tree/')).data!;
  const res = await gql(app, '{ categoryTree { id name slug children { id name slug children { id name slug children { id } } } } }');
  expect(res.data.categoryTree).toEqual(rest);
  expect(res.data.categoryTree.find((c: { id: number }) => c.id === root.id).children.map((c: { id: number }) => c.id)).toEqual([child]);
});

describe('no N+1', () => {
  const PAGE = `query($first: Int!, $filter: ProductFilter) { products(first: $first, filter: $filter) { edges { node {
    id name description images category { id name } variants { id sku price attributes { name value } } reviews { id user { username } }
  } } } }`;

  it('reads a page of products with variants, categories and reviews in the same few statements for 5 or 20 products', async () => {
    const cats = [await makeCategory(admin), await makeCategory(admin), await makeCategory(admin)];
    const bulk = await makeCategory(admin);
    for (let i = 0; i < 20; i++) {
      await makeProduct(vendor, itemAt(cats, i % 3).id, {
        variants: [
          { sku: uniqueName('N').toUpperCase(), price: '3.00', stock: 1, attributes: { color: 'red' } },
          { sku: uniqueName('N').toUpperCase(), price: '4.00', stock: 1, attributes: { color: 'blue' } },
        ],
      });
      void bulk;
    }
    const reviewer = await actor(app);
    const listed = await gql(app, '{ products(first: 20) { edges { node { id } } } }');
    for (const e of listed.data.products.edges.slice(0, 4)) await reviewer.api.POST('/api/review/', { body: { product: e.node.id, rating: 4 } });

    const small = await countStatements(app, () => gql(app, PAGE, { first: 5 }));
    const large = await countStatements(app, () => gql(app, PAGE, { first: 20 }));
    expect(small.result.errors).toBeUndefined();
    expect(large.result.errors).toBeUndefined();
    expect(small.result.data.products.edges).toHaveLength(5);
    expect(large.result.data.products.edges).toHaveLength(20);
    expect(large.result.data.products.edges.every((e: { node: { variants: unknown[] } }) => e.node.variants.length === 2)).toBe(true);
    expect(large.result.data.products.edges.filter((e: { node: { reviews: unknown[] } }) => e.node.reviews.length === 1)).toHaveLength(4);
    // list + product details (variants) + categories + reviews ids + reviews with authors
    expect(large.statements.length).toBeLessThanOrEqual(5);
    expect(large.statements.length).toBe(small.statements.length);
  });
});

describe('category { id }', () => {
  const page = (category: string, fragments = '') =>
    `query($filter: ProductFilter) { products(filter: $filter, first: 20) { edges { node { id ${category} } } } } ${fragments}`;

  async function answer(category: string, fragments?: string) {
    const { result, statements } = await countStatements(app, () => gql(app, page(category, fragments), { filter: { category: String(root.id) } }));
    expect(result.errors).toBeUndefined();
    const nodes = result.data.products.edges.map((e: { node: Record<string, unknown> }) => e.node);
    return { nodes, statements: statements.length };
  }

  it("is answered from the product's row, with no statement; any other field still reads the category", async () => {
    const rest = (await app.api.GET('/api/product/', { params: { query: { category: String(root.id), page_size: 20 } } })).data!.results;
    const categoryOf = new Map(rest.map((r) => [r.id, r.category]));
    const none = await answer('');
    expect(none.nodes.map((n: { id: number }) => n.id)).toEqual(rest.map((r) => r.id));

    for (const [selection, fragments] of [
      ['category { id }', ''],
      ['category { __typename id }', ''],
      ['category { key: id }', ''],
      ['category { ... on Category { id } }', ''],
      ['category { ...c }', 'fragment c on Category { id }'],
    ] as const) {
      const { nodes, statements } = await answer(selection, fragments);
      expect(statements).toBe(none.statements);
      for (const n of nodes as { id: number; category: { id?: number; key?: number; __typename?: string } }[]) {
        expect(n.category.id ?? n.category.key).toBe(categoryOf.get(n.id));
        if (selection.includes('__typename')) expect(n.category.__typename).toBe('Category');
      }
    }

    const slugs = new Map([
      [root.id, root.slug],
      ...(await Promise.all([child, other].map(async (id) => [id, (await app.api.GET('/api/category/{id}/', { params: { path: { id } } })).data!.slug] as const))),
    ]);
    for (const [selection, fragments] of [
      ['category { id slug }', ''],
      ['category { id ...s }', 'fragment s on Category { slug }'],
      ['category { id } category { slug }', ''],
    ] as const) {
      const { nodes, statements } = await answer(selection, fragments);
      expect(statements).toBe(none.statements + 1);
      for (const n of nodes as { id: number; category: { id: number; slug: string } }[]) {
        expect(n.category).toEqual({ id: categoryOf.get(n.id), slug: slugs.get(categoryOf.get(n.id)!) });
      }
    }
  });
});
