import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';

let app: TestApp;
let vendor: Actor;
let category: number;
beforeAll(async () => {
  app = await startApp();
  const admin = await actor(app, 'admin');
  vendor = await actor(app, 'vendor');
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

describe('wishlist', () => {
  it('saves products idempotently and lists them newest first with product summaries', async () => {
    const u = await actor(app);
    const [p1, p2] = [await makeProduct(vendor, category, { price: '12.00' }), await makeProduct(vendor, category)];
    const first = await u.api.POST('/api/wishlist/add/', { body: { product: p1.id } });
    expect(first.response.status).toBe(201);
    expect(first.data!.product).toMatchObject({ id: p1.id, price: '12.00', name: p1.name });
    const again = await u.api.POST('/api/wishlist/add/', { body: { product: p1.id } });
    expect(again.response.status).toBe(200);
    expect(again.data!.id).toBe(first.data!.id);
    await u.api.POST('/api/wishlist/add/', { body: { product: p2.id } });
    const list = await u.api.GET('/api/wishlist/');
    expect(list.data!.results.map((i) => i.product.id)).toEqual([p2.id, p1.id]);
    expect(await sql(app, 'select wi.id from wishlist_items wi join wishlists w on w.id = wi.wishlist_id where w.user_id = ?', [u.user.id])).toHaveLength(2);
  });

  it('keeps one item under concurrent saves of one product', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category);
    const results = await Promise.all([1, 2, 3, 4].map(() => u.api.POST('/api/wishlist/add/', { body: { product: p.id } })));
    expect(results.map((r) => r.response.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.data!.id)).size).toBe(1);
  });

  it('pages through a long wishlist by cursor', async () => {
    const u = await actor(app);
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      const p = await makeProduct(vendor, category);
      ids.push(p.id);
      await u.api.POST('/api/wishlist/add/', { body: { product: p.id } });
    }
    const seen: number[] = [];
    let url: string | null = `${app.baseUrl}/api/wishlist/?page_size=3`;
    while (url) {
      const body = (await (await fetch(url, { headers: { authorization: `Bearer ${u.tokens.access}` } })).json()) as {
        next: string | null;
        results: { product: { id: number } }[];
      };
      seen.push(...body.results.map((r) => r.product.id));
      url = body.next;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('hides withdrawn products and refuses unknown ones', async () => {
    const u = await actor(app);
    const p = await makeProduct(vendor, category);
    await u.api.POST('/api/wishlist/add/', { body: { product: p.id } });
    await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    expect((await u.api.GET('/api/wishlist/')).data!.results).toEqual([]);
    for (const product of [p.id, 99999999]) {
      const res = await u.api.POST('/api/wishlist/add/', { body: { product } });
      expect(res.response.status).toBe(422);
      expect(res.error!.code).toBe('UNKNOWN_PRODUCT');
    }
  });

  it("removes items; another user's item answers 404 and stays", async () => {
    const owner = await actor(app);
    const other = await actor(app);
    const p = await makeProduct(vendor, category);
    const item = (await owner.api.POST('/api/wishlist/add/', { body: { product: p.id } })).data!;
    expect((await other.api.DELETE('/api/wishlist/remove/{item_id}/', { params: { path: { item_id: item.id } } })).response.status).toBe(404);
    expect((await owner.api.GET('/api/wishlist/')).data!.results).toHaveLength(1);
    expect((await owner.api.DELETE('/api/wishlist/remove/{item_id}/', { params: { path: { item_id: item.id } } })).response.status).toBe(204);
    expect((await owner.api.GET('/api/wishlist/')).data!.results).toEqual([]);
    expect((await owner.api.DELETE('/api/wishlist/remove/{item_id}/', { params: { path: { item_id: item.id } } })).response.status).toBe(404);
  });

  it('answers 400 for bad input and 401 without a token', async () => {
    const u = await actor(app);
    for (const body of [{}, { product: 'x' }, { product: 1, note: 'hi' }, { product: 0 }]) {
      const res = await fetch(`${app.baseUrl}/api/wishlist/add/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${u.tokens.access}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
    }
    expect((await app.api.GET('/api/wishlist/')).response.status).toBe(401);
    expect((await fetch(`${app.baseUrl}/api/wishlist/remove/abc/`, { method: 'DELETE', headers: { authorization: `Bearer ${u.tokens.access}` } })).status).toBe(400);
  });
});
