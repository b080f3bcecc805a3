import { startApp, type TestApp } from '../../support/app';
import { actor, type Actor, login, sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let admin: Actor;
let customer: Actor;
beforeAll(async () => {
  app = await startApp();
  admin = await actor(app, 'admin');
  customer = await actor(app);
});
afterAll(() => app.close());

/** Follows `next` (or `previous`) links with the admin's token until the end; returns every page's ids. */
async function walk(start: string, direction: 'next' | 'previous' = 'next'): Promise<number[][]> {
  const pages: number[][] = [];
  let url: string | null = start;
  while (url) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${admin.tokens.access}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { next: string | null; previous: string | null; results: { id: number }[] };
    pages.push(body.results.map((u) => u.id));
    url = body[direction];
    if (pages.length > 50) throw new Error('runaway pagination');
  }
  return pages;
}

describe('GET /api/users/', () => {
  beforeAll(async () => {
    // 23 more accounts, so pages of 10 leave a remainder.
    for (let i = 0; i < 23; i++) await actor(app, i % 5 === 0 ? 'vendor' : 'customer');
  });

  it('is for admins: 403 for a customer, 401 anonymously', async () => {
    const denied = await customer.api.GET('/api/users/');
    expect(denied.response.status).toBe(403);
    expect(denied.error!.code).toBe('FORBIDDEN');
    expect((await app.api.GET('/api/users/')).response.status).toBe(401);
  });

  it('pages through everyone by cursor without gaps or repeats, forward and back', async () => {
    const all = (await sql<{ id: number }>(app, 'select id from users order by id')).map((r) => r.id);
    const pages = await walk(`${app.baseUrl}/api/users/?page_size=10`);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(all);
    // From the last page, previous links lead back to the first.
    const lastPageUrl = await (async () => {
      let url = `${app.baseUrl}/api/users/?page_size=10`;
      for (;;) {
        const body = (await (await fetch(url, { headers: { authorization: `Bearer ${admin.tokens.access}` } })).json()) as { next: string | null };
        if (!body.next) return url;
        url = body.next;
      }
    })();
    const back = await walk(lastPageUrl, 'previous');
    expect(back.reverse().flat()).toEqual(all);
  });

  it.each(['-id', 'username', '-username', 'date_joined', '-date_joined'] as const)('orders by %s with a stable tie-breaker', async (ordering) => {
    const pages = await walk(`${app.baseUrl}/api/users/?page_size=7&ordering=${ordering}`);
    const ids = pages.flat();
    const column = { id: 'id', username: 'username', date_joined: 'created_at' }[ordering.replace('-', '')];
    const dir = ordering.startsWith('-') ? 'desc' : 'asc';
    const expected = await sql<{ id: number }>(app, `select id from users order by ${column} ${dir}, id ${dir}`);
    expect(ids).toEqual(expected.map((r) => r.id));
  });

  it('gives numbered pages with a count when asked for page=', async () => {
    const total = (await sql(app, 'select id from users')).length;
    const { data } = await admin.api.GET('/api/users/', { params: { query: { page: 2, page_size: 10 } } });
    expect(data!.count).toBe(total);
    expect(data!.results).toHaveLength(10);
    expect(data!.previous).toContain('page=1');
    expect(data!.next).toContain('page=3');
    const last = await admin.api.GET('/api/users/', { params: { query: { page: 3, page_size: 10 } } });
    expect(last.data!.next).toBeNull();
    const beyond = await admin.api.GET('/api/users/', { params: { query: { page: 9, page_size: 10 } } });
    expect(beyond.data!.results).toEqual([]);
  });

  it('filters by role, active status and a username or email prefix', async () => {
    const vendors = await admin.api.GET('/api/users/', { params: { query: { role: 'vendor', page_size: 100 } } });
    expect(vendors.data!.results.length).toBeGreaterThan(0);
    expect(vendors.data!.results.every((u) => u.role === 'vendor')).toBe(true);
    const search = await admin.api.GET('/api/users/', { params: { query: { search: customer.user.username.slice(0, 12).toUpperCase() } } });
    expect(search.data!.results.map((u) => u.id)).toContain(customer.user.id);
    const inactive = await admin.api.GET('/api/users/', { params: { query: { is_active: false } } });
    expect(inactive.data!.results.every((u) => !u.is_active)).toBe(true);
  });

  it.each([
    ['a page_size above 100', 'page_size=101', 'query.page_size'],
    ['a page_size of 0', 'page_size=0', 'query.page_size'],
    ['a non-numeric page', 'page=abc', 'query.page'],
    ['an unknown ordering', 'ordering=password_hash', 'query.ordering'],
    ['an unknown role', 'role=superuser', 'query.role'],
    ['an unknown parameter', 'limit=5', 'query.limit'],
  ])('answers 400 for %s', async (_c, qs, field) => {
    const res = await fetch(`${app.baseUrl}/api/users/?${qs}`, { headers: { authorization: `Bearer ${admin.tokens.access}` } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { field: string }[] };
    expect(body.errors.map((e) => e.field)).toContain(field);
  });

  it('refuses a tampered cursor, a cursor of another ordering, and cursor with page, with 400', async () => {
    const { data } = await admin.api.GET('/api/users/', { params: { query: { page_size: 5 } } });
    const cursor = new URL(data!.next!).searchParams.get('cursor')!;
    const [payload, sig] = cursor.split('.');
    if (sig === undefined) throw new Error(`cursor without a signature: ${cursor}`);
    const forged = Buffer.from(JSON.stringify(['users:id', 0, [1, 1]])).toString('base64url');
    for (const [query, code] of [
      [{ cursor: `${forged}.${sig}` }, 'INVALID_CURSOR'],
      [{ cursor: `${payload}.${sig.slice(1)}` }, 'INVALID_CURSOR'],
      [{ cursor: 'garbage' }, 'INVALID_CURSOR'],
      [{ cursor, ordering: '-id' as const }, 'INVALID_CURSOR'],
      [{ cursor, page: 2 }, 'INVALID_PAGINATION'],
    ] as const) {
      const res = await admin.api.GET('/api/users/', { params: { query } });
      expect(res.response.status).toBe(400);
      expect(res.error!.code).toBe(code);
    }
  });
});

describe('GET /api/users/{id}/', () => {
  it('lets an admin read anyone and a user only themself (404 for others)', async () => {
    expect((await admin.api.GET('/api/users/{id}/', { params: { path: { id: customer.user.id } } })).data!.id).toBe(customer.user.id);
    expect((await customer.api.GET('/api/users/{id}/', { params: { path: { id: customer.user.id } } })).data!.id).toBe(customer.user.id);
    const other = await customer.api.GET('/api/users/{id}/', { params: { path: { id: admin.user.id } } });
    expect(other.response.status).toBe(404);
    expect(other.error!.code).toBe('NOT_FOUND');
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect((await admin.api.GET('/api/users/{id}/', { params: { path: { id: 99999999 } } })).response.status).toBe(404);
    const res = await fetch(`${app.baseUrl}/api/users/abc/`, { headers: { authorization: `Bearer ${admin.tokens.access}` } });
    expect(res.status).toBe(400);
    expect(firstOf(((await res.json()) as { errors: { field: string }[] }).errors).field).toBe('path.id');
  });
});

describe('PATCH /api/users/{id}/', () => {
  it('lets an admin change a role, effective on the next request', async () => {
    const v = await actor(app);
    const { data, response } = await admin.api.PATCH('/api/users/{id}/', { params: { path: { id: v.user.id } }, body: { role: 'admin' } });
    expect(response.status).toBe(200);
    expect(data!.role).toBe('admin');
    expect((await v.api.GET('/api/users/')).response.status).toBe(200);
    await admin.api.PATCH('/api/users/{id}/', { params: { path: { id: v.user.id } }, body: { role: 'customer' } });
    expect((await v.api.GET('/api/users/')).response.status).toBe(403);
  });

  it('deactivates an account: it can no longer log in, and its tokens stop working; reactivation restores login', async () => {
    const v = await actor(app);
    await admin.api.PATCH('/api/users/{id}/', { params: { path: { id: v.user.id } }, body: { is_active: false } });
    expect((await v.api.GET('/api/auth/me/')).response.status).toBe(401);
    expect((await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: v.tokens.refresh } })).response.status).toBe(401);
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: v.user.username, password: v.password } })).response.status).toBe(401);
    await admin.api.PATCH('/api/users/{id}/', { params: { path: { id: v.user.id } }, body: { is_active: true } });
    await login(app, v.user.username, v.password);
  });

  it('forbids customers and vendors (403), and nothing changes', async () => {
    const vendor = await actor(app, 'vendor');
    for (const who of [customer, vendor]) {
      const res = await who.api.PATCH('/api/users/{id}/', { params: { path: { id: who.user.id } }, body: { role: 'admin' } });
      expect(res.response.status).toBe(403);
      const row = firstOf(await sql<{ role: string }>(app, 'select role from users where id = ?', [who.user.id]));
      expect(row.role).toBe(who.user.role);
    }
  });

  it.each([
    ['a bad enum', { role: 'owner' }],
    ['an unknown field', { role: 'vendor', username: 'x' }],
    ['an empty patch', {}],
    ['a wrong type', { is_active: 'yes' }],
  ])('answers 400 for %s', async (_c, body) => {
    const res = await fetch(`${app.baseUrl}/api/users/${customer.user.id}/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
  });

  it('keeps the last active admin: demoting or deactivating them is 409 LAST_ADMIN', async () => {
    const solo = await startApp();
    try {
      const only = await actor(solo, 'admin');
      for (const body of [{ role: 'customer' as const }, { is_active: false }]) {
        const res = await only.api.PATCH('/api/users/{id}/', { params: { path: { id: only.user.id } }, body });
        expect(res.response.status).toBe(409);
        expect(res.error!.code).toBe('LAST_ADMIN');
      }
      const del = await only.api.DELETE('/api/users/{id}/', { params: { path: { id: only.user.id } } });
      expect(del.response.status).toBe(409);
      // With a second admin, one may step down.
      const second = await actor(solo, 'admin');
      expect((await second.api.PATCH('/api/users/{id}/', { params: { path: { id: only.user.id } }, body: { role: 'vendor' } })).response.status).toBe(200);
    } finally {
      await solo.close();
    }
  });

  it('lets at most one of two admins demote the other at the same moment', async () => {
    const solo = await startApp();
    try {
      const a = await actor(solo, 'admin');
      const b = await actor(solo, 'admin');
      const results = await Promise.all([
        a.api.PATCH('/api/users/{id}/', { params: { path: { id: b.user.id } }, body: { role: 'customer' } }),
        b.api.PATCH('/api/users/{id}/', { params: { path: { id: a.user.id } }, body: { role: 'customer' } }),
      ]);
      const statuses = results.map((r) => r.response.status);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
      const admins = await sql(solo, "select id from users where role = 'admin' and is_active");
      expect(admins.length).toBeGreaterThanOrEqual(1);
    } finally {
      await solo.close();
    }
  });
});

describe('DELETE /api/users/{id}/', () => {
  it('lets a user deactivate themself; the record stays', async () => {
    const v = await actor(app);
    expect((await v.api.DELETE('/api/users/{id}/', { params: { path: { id: v.user.id } } })).response.status).toBe(204);
    expect((await v.api.GET('/api/auth/me/')).response.status).toBe(401);
    const row = firstOf(await sql<{ is_active: boolean }>(app, 'select is_active from users where id = ?', [v.user.id]));
    expect(row.is_active).toBe(false);
    expect((await admin.api.DELETE('/api/users/{id}/', { params: { path: { id: v.user.id } } })).response.status).toBe(204);
  });

  it("answers 404 to a user deleting someone else, and nothing changes", async () => {
    const v = await actor(app);
    const res = await customer.api.DELETE('/api/users/{id}/', { params: { path: { id: v.user.id } } });
    expect(res.response.status).toBe(404);
    expect((await v.api.GET('/api/auth/me/')).response.status).toBe(200);
  });

  it('lets an admin deactivate anyone, and answers 404 for unknown ids', async () => {
    const v = await actor(app);
    expect((await admin.api.DELETE('/api/users/{id}/', { params: { path: { id: v.user.id } } })).response.status).toBe(204);
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: v.user.username, password: v.password } })).response.status).toBe(401);
    expect((await admin.api.DELETE('/api/users/{id}/', { params: { path: { id: 99999999 } } })).response.status).toBe(404);
  });
});
