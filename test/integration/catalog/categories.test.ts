import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { firstOf, itemAt } from '../../support/narrow';

let app: TestApp;
let admin: Actor;
let vendor: Actor;
let customer: Actor;
beforeAll(async () => {
  app = await startApp();
  [admin, vendor, customer] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor'), actor(app)]);
});
afterAll(() => app.close());

describe('categories', () => {
  it('lets an admin create nested categories with generated slugs and a Location', async () => {
    const { data, response } = await admin.api.POST('/api/category/', { body: { name: 'Crème Brûlée & Co', description: 'Desserts' } });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ name: 'Crème Brûlée & Co', slug: 'creme-brulee-co', parent: null, is_active: true, description: 'Desserts' });
    expect(response.headers.get('location')).toBe(`${app.baseUrl}/api/category/${data!.id}/`);
    const child = await makeCategory(admin, 'Tarts', data!.id);
    expect(child.parent).toBe(data!.id);
    // The same name again gets a distinct slug; an explicit duplicate slug is a 409.
    const again = await admin.api.POST('/api/category/', { body: { name: 'Crème Brûlée & Co' } });
    expect(again.data!.slug).toMatch(/^creme-brulee-co-[0-9a-f]{6}$/);
    const dup = await admin.api.POST('/api/category/', { body: { name: 'X', slug: 'creme-brulee-co' } });
    expect(dup.response.status).toBe(409);
    expect(dup.error!.code).toBe('SLUG_TAKEN');
  });

  it('refuses an update to a taken slug (409 SLUG_TAKEN) or under a missing parent (422 UNKNOWN_CATEGORY), and changes nothing', async () => {
    const cat = await makeCategory(admin);
    const other = await makeCategory(admin);
    const patch = (body: { slug?: string; parent?: number }) => admin.api.PATCH('/api/category/{id}/', { params: { path: { id: cat.id } }, body: { name: 'Renamed', ...body } });
    expect((await patch({ slug: other.slug })).error).toMatchObject({ status: 409, code: 'SLUG_TAKEN' });
    expect((await patch({ parent: 999999 })).error).toMatchObject({ status: 422, code: 'UNKNOWN_CATEGORY' });
    expect((await admin.api.GET('/api/category/{id}/', { params: { path: { id: cat.id } } })).data).toMatchObject({ name: cat.name, slug: cat.slug, parent: null });
  });

  it('refuses writes from vendors, customers and anonymous callers', async () => {
    for (const who of [vendor, customer]) {
      expect((await who.api.POST('/api/category/', { body: { name: 'Nope' } })).response.status).toBe(403);
    }
    expect((await app.api.POST('/api/category/', { body: { name: 'Nope' } })).response.status).toBe(401);
    expect((await sql(app, "select 1 from categories where name = 'Nope'")).length).toBe(0);
  });

  it('answers 422 UNKNOWN_CATEGORY for a missing parent, and 400 for bad input', async () => {
    const missing = await admin.api.POST('/api/category/', { body: { name: 'Orphan', parent: 999999 } });
    expect(missing.response.status).toBe(422);
    expect(missing.error!.code).toBe('UNKNOWN_CATEGORY');
    for (const body of [{}, { name: '' }, { name: 'x', slug: 'Not A Slug' }, { name: 'x', parent: 'one' }, { name: 'x', colour: 'red' }]) {
      const res = await fetch(`${app.baseUrl}/api/category/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.tokens.access}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
    }
  });

  it('moves a category but never under itself or its descendants', async () => {
    const a = await makeCategory(admin);
    const b = await makeCategory(admin, undefined, a.id);
    const c = await makeCategory(admin, undefined, b.id);
    for (const target of [a.id, c.id]) {
      const res = await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: a.id } }, body: { parent: target } });
      expect(res.response.status).toBe(422);
      expect(res.error!.code).toBe('CATEGORY_CYCLE');
    }
    const row = firstOf(await sql<{ parent_id: number | null }>(app, 'select parent_id from categories where id = ?', [a.id]));
    expect(row.parent_id).toBeNull();
    const moved = await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: c.id } }, body: { parent: a.id, name: 'Renamed' } });
    expect(moved.data).toMatchObject({ parent: a.id, name: 'Renamed' });
    const top = await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: b.id } }, body: { parent: null } });
    expect(top.data!.parent).toBeNull();
  });

  it('never lets two concurrent moves create a cycle', async () => {
    const a = await makeCategory(admin);
    const b = await makeCategory(admin);
    const results = await Promise.all([
      admin.api.PATCH('/api/category/{id}/', { params: { path: { id: a.id } }, body: { parent: b.id } }),
      admin.api.PATCH('/api/category/{id}/', { params: { path: { id: b.id } }, body: { parent: a.id } }),
    ]);
    expect(results.map((r) => r.response.status).sort()).toEqual([200, 422]);
  });

  it('serves the active tree, nested and sorted, to anyone, with a public cache lifetime', async () => {
    const root = await makeCategory(admin, 'zz Root');
    const kid2 = await makeCategory(admin, 'zz Beta', root.id);
    await makeCategory(admin, 'zz Alpha', root.id);
    await makeCategory(admin, 'zz Grandchild', kid2.id);
    const hidden = await makeCategory(admin, 'zz Hidden', root.id);
    await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: hidden.id } }, body: { is_active: false } });
    const { data, response } = await app.api.GET('/api/category/tree/');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const node = data!.find((n) => n.id === root.id)!;
    expect(node.children.map((c) => c.name)).toEqual(['zz Alpha', 'zz Beta']);
    expect(itemAt(node.children, 1).children.map((c) => c.name)).toEqual(['zz Grandchild']);
  });

  it('lists categories by parent; inactive ones only for admins', async () => {
    const root = await makeCategory(admin);
    const on = await makeCategory(admin, 'b-on', root.id);
    const off = await makeCategory(admin, 'a-off', root.id);
    await admin.api.PATCH('/api/category/{id}/', { params: { path: { id: off.id } }, body: { is_active: false } });
    const pub = await app.api.GET('/api/category/', { params: { query: { parent: root.id } } });
    expect(pub.data!.results.map((c) => c.id)).toEqual([on.id]);
    const all = await admin.api.GET('/api/category/', { params: { query: { parent: root.id, status: 'all' } } });
    expect(all.data!.results.map((c) => c.id)).toEqual([off.id, on.id]);
    expect((await customer.api.GET('/api/category/', { params: { query: { status: 'all' } } })).response.status).toBe(403);
    expect((await app.api.GET('/api/category/{id}/', { params: { path: { id: off.id } } })).response.status).toBe(404);
    expect((await admin.api.GET('/api/category/{id}/', { params: { path: { id: off.id } } })).data!.is_active).toBe(false);
    const tops = await app.api.GET('/api/category/', { params: { query: { parent: 0, page_size: 100 } } });
    expect(tops.data!.results.every((c) => c.parent === null)).toBe(true);
  });

  it('deletes only empty categories', async () => {
    const parent = await makeCategory(admin);
    const child = await makeCategory(admin, undefined, parent.id);
    const withChild = await admin.api.DELETE('/api/category/{id}/', { params: { path: { id: parent.id } } });
    expect(withChild.response.status).toBe(409);
    expect(withChild.error!.code).toBe('CATEGORY_NOT_EMPTY');
    await makeProduct(vendor, child.id);
    expect((await admin.api.DELETE('/api/category/{id}/', { params: { path: { id: child.id } } })).response.status).toBe(409);
    const empty = await makeCategory(admin);
    expect((await admin.api.DELETE('/api/category/{id}/', { params: { path: { id: empty.id } } })).response.status).toBe(204);
    expect((await admin.api.DELETE('/api/category/{id}/', { params: { path: { id: empty.id } } })).response.status).toBe(404);
    expect((await vendor.api.DELETE('/api/category/{id}/', { params: { path: { id: parent.id } } })).response.status).toBe(403);
  });

  it('routes /api/category/tree/ to the tree, not to a category with id "tree"', async () => {
    const res = await fetch(`${app.baseUrl}/api/category/tree/`);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
