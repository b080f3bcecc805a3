import { startApp, type TestApp } from '../../support/app';
import { makeCategory, makeProduct } from '../../support/catalog';
import { actor, type Actor, sql } from '../../support/factories';
import { itemAt } from '../../support/narrow';

let app: TestApp;
let vendor: Actor;
let admin: Actor;
let category: number;
beforeAll(async () => {
  app = await startApp();
  [admin, vendor] = await Promise.all([actor(app, 'admin'), actor(app, 'vendor')]);
  category = (await makeCategory(admin)).id;
});
afterAll(() => app.close());

const rating = async (productId: number) =>
  (await sql<{ rating_avg: string; rating_count: number }>(app, 'select rating_avg, rating_count from products where id = ?', [productId]))[0];

describe('reviews', () => {
  it('creates a review; the product rating follows; a second review by the same user is 409', async () => {
    const p = await makeProduct(vendor, category);
    const [a, b] = [await actor(app), await actor(app)];
    const first = await a.api.POST('/api/review/', { body: { product: p.id, rating: 5, title: ' Great ', comment: 'Loved it.' } });
    expect(first.response.status).toBe(201);
    expect(first.response.headers.get('location')).toBe(`${app.baseUrl}/api/review/${first.data!.id}/`);
    expect(first.data).toMatchObject({ product: p.id, rating: 5, title: 'Great', comment: 'Loved it.', user: { id: a.user.id, username: a.user.username }, verified_purchase: false });
    await b.api.POST('/api/review/', { body: { product: p.id, rating: 2 } });
    expect(await rating(p.id)).toEqual({ rating_avg: '3.50', rating_count: 2 });
    const detail = await app.api.GET('/api/product/{id}/', { params: { path: { id: p.id } } });
    expect(detail.data!.rating).toEqual({ average: '3.50', count: 2 });
    const dup = await a.api.POST('/api/review/', { body: { product: p.id, rating: 1 } });
    expect(dup.response.status).toBe(409);
    expect(dup.error!.code).toBe('ALREADY_REVIEWED');
    expect(await rating(p.id)).toEqual({ rating_avg: '3.50', rating_count: 2 });
  });

  it('keeps the aggregate exact under concurrent reviews', async () => {
    const p = await makeProduct(vendor, category);
    const reviewers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => actor(app)));
    const results = await Promise.all(reviewers.map((r, i) => r.api.POST('/api/review/', { body: { product: p.id, rating: (i % 5) + 1 } })));
    expect(results.every((r) => r.response.status === 201)).toBe(true);
    // ratings 1,2,3,4,5,1 → 16 / 6 = 2.67
    expect(await rating(p.id)).toEqual({ rating_avg: '2.67', rating_count: 6 });
  });

  it('lets the author edit and delete; others get 404; admins may delete any', async () => {
    const p = await makeProduct(vendor, category);
    const [author, other] = [await actor(app), await actor(app)];
    const review = (await author.api.POST('/api/review/', { body: { product: p.id, rating: 4 } })).data!;
    const path = { params: { path: { id: review.id } } };
    expect((await other.api.PATCH('/api/review/{id}/', { ...path, body: { rating: 1 } })).response.status).toBe(404);
    expect((await other.api.DELETE('/api/review/{id}/', path)).response.status).toBe(404);
    expect(await rating(p.id)).toEqual({ rating_avg: '4.00', rating_count: 1 });
    const edited = await author.api.PATCH('/api/review/{id}/', { ...path, body: { rating: 2, comment: 'Wore out fast.' } });
    expect(edited.data).toMatchObject({ rating: 2, comment: 'Wore out fast.' });
    expect(await rating(p.id)).toEqual({ rating_avg: '2.00', rating_count: 1 });
    expect((await admin.api.DELETE('/api/review/{id}/', path)).response.status).toBe(204);
    expect(await rating(p.id)).toEqual({ rating_avg: '0.00', rating_count: 0 });
    expect((await app.api.GET('/api/review/{id}/', path)).response.status).toBe(404);
  });

  it('lists reviews by product and user, newest first or by rating, paginated', async () => {
    const p = await makeProduct(vendor, category);
    const authors = [await actor(app), await actor(app), await actor(app)];
    for (const [i, a] of authors.entries()) await a.api.POST('/api/review/', { body: { product: p.id, rating: itemAt([3, 5, 1], i) } });
    const newest = await app.api.GET('/api/review/', { params: { query: { product: p.id } } });
    expect(newest.data!.results.map((r) => r.user.id)).toEqual([...authors].reverse().map((a) => a.user.id));
    expect(newest.response.headers.get('cache-control')).toBe('public, max-age=60');
    const best = await app.api.GET('/api/review/', { params: { query: { product: p.id, ordering: '-rating', page_size: 2 } } });
    expect(best.data!.results.map((r) => r.rating)).toEqual([5, 3]);
    const rest = await fetch(best.data!.next!);
    expect(((await rest.json()) as { results: { rating: number }[] }).results.map((r) => r.rating)).toEqual([1]);
    const byUser = await app.api.GET('/api/review/', { params: { query: { user: itemAt(authors, 1).user.id } } });
    expect(byUser.data!.results.map((r) => r.product)).toEqual([p.id]);
  });

  it('hides reviews of withdrawn products and refuses reviewing them', async () => {
    const p = await makeProduct(vendor, category);
    const u = await actor(app);
    const review = (await u.api.POST('/api/review/', { body: { product: p.id, rating: 3 } })).data!;
    await vendor.api.PATCH('/api/product/{id}/', { params: { path: { id: p.id } }, body: { is_active: false } });
    expect((await app.api.GET('/api/review/', { params: { query: { product: p.id } } })).data!.results).toEqual([]);
    expect((await app.api.GET('/api/review/{id}/', { params: { path: { id: review.id } } })).response.status).toBe(404);
    const other = await actor(app);
    const refused = await other.api.POST('/api/review/', { body: { product: p.id, rating: 3 } });
    expect(refused.response.status).toBe(422);
    expect(refused.error!.code).toBe('UNKNOWN_PRODUCT');
  });

  it.each([
    ['a rating of 0', { rating: 0 }, 'body.rating'],
    ['a rating of 6', { rating: 6 }, 'body.rating'],
    ['a fractional rating', { rating: 4.5 }, 'body.rating'],
    ['a long comment', { rating: 3, comment: 'x'.repeat(4001) }, 'body.comment'],
    ['a verified_purchase claim', { rating: 3, verified_purchase: true }, 'body.verified_purchase'],
  ])('answers 400 for %s, writing nothing', async (_c, extra, field) => {
    const p = await makeProduct(vendor, category);
    const u = await actor(app);
    const res = await fetch(`${app.baseUrl}/api/review/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${u.tokens.access}` },
      body: JSON.stringify({ product: p.id, ...extra }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
    expect(await sql(app, 'select id from reviews where product_id = ?', [p.id])).toEqual([]);
  });

  it('requires sign-in to write, and the database refuses out-of-range ratings too', async () => {
    const p = await makeProduct(vendor, category);
    expect((await app.api.POST('/api/review/', { body: { product: p.id, rating: 3 } })).response.status).toBe(401);
    await expect(sql(app, 'insert into reviews (user_id, product_id, rating) values (?, ?, 9)', [vendor.user.id, p.id])).rejects.toThrow(/reviews_rating_check/);
  });
});
