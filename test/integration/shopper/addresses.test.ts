import { startApp, type TestApp } from '../../support/app';
import { actor, type Actor, sql } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
let alice: Actor;
let bob: Actor;
beforeAll(async () => {
  app = await startApp();
  [alice, bob] = await Promise.all([actor(app), actor(app)]);
});
afterAll(() => app.close());

const home = { recipient_name: 'Alice Liddell', line1: '1 Rabbit Hole', city: 'Oxford', postal_code: 'OX1 1AA', country: 'GB' };
const defaults = async (userId: number) =>
  (await sql<{ id: number }>(app, 'select id from addresses where user_id = ? and is_default order by id', [userId])).map((r) => r.id);

describe('addresses', () => {
  it('creates addresses; the first becomes the default and a new default moves it', async () => {
    const a = await alice.api.POST('/api/address/', { body: { ...home, kind: 'home', phone: '+44 1865 000000', line2: 'Flat 2', region: 'Oxon' } });
    expect(a.response.status).toBe(201);
    expect(a.response.headers.get('location')).toBe(`${app.baseUrl}/api/address/${a.data!.id}/`);
    expect(a.data).toMatchObject({ ...home, kind: 'home', is_default: true, line2: 'Flat 2', region: 'Oxon' });
    const b = await alice.api.POST('/api/address/', { body: { ...home, kind: 'work', line1: '2 Work St' } });
    expect(b.data!.is_default).toBe(false);
    const c = await alice.api.POST('/api/address/', { body: { ...home, line1: '3 New St', is_default: true } });
    expect(c.data!.is_default).toBe(true);
    expect(await defaults(alice.user.id)).toEqual([c.data!.id]);
    await alice.api.PATCH('/api/address/{id}/', { params: { path: { id: b.data!.id } }, body: { is_default: true, city: 'London' } });
    expect(await defaults(alice.user.id)).toEqual([b.data!.id]);
    const list = await alice.api.GET('/api/address/');
    expect(list.data!.results.map((x) => x.id)).toEqual([c.data!.id, b.data!.id, a.data!.id]);
    expect(list.data!.results.find((x) => x.id === b.data!.id)!.city).toBe('London');
  });

  it('keeps one default under concurrent changes (the database enforces it too)', async () => {
    const u = await actor(app);
    const made = await Promise.all([1, 2, 3, 4].map((i) => u.api.POST('/api/address/', { body: { ...home, line1: `${i} Race St`, is_default: true } })));
    expect(made.every((r) => r.response.status === 201)).toBe(true);
    expect(await defaults(u.user.id)).toHaveLength(1);
    await expect(sql(app, 'update addresses set is_default = true where user_id = ?', [u.user.id])).rejects.toThrow(/addresses_one_default_per_user/);
  });

  it('promotes the newest remaining address when the default is deleted', async () => {
    const u = await actor(app);
    const first = (await u.api.POST('/api/address/', { body: home })).data!;
    const second = (await u.api.POST('/api/address/', { body: { ...home, line1: '9 Other St' } })).data!;
    expect((await u.api.DELETE('/api/address/{id}/', { params: { path: { id: first.id } } })).response.status).toBe(204);
    expect(await defaults(u.user.id)).toEqual([second.id]);
  });

  it("hides other users' addresses (404) and changes nothing of theirs", async () => {
    const mine = (await alice.api.POST('/api/address/', { body: { ...home, line1: 'Private 1' } })).data!;
    const path = { params: { path: { id: mine.id } } };
    expect((await bob.api.GET('/api/address/{id}/', path)).response.status).toBe(404);
    expect((await bob.api.PATCH('/api/address/{id}/', { ...path, body: { city: 'Hacked' } })).response.status).toBe(404);
    expect((await bob.api.DELETE('/api/address/{id}/', path)).response.status).toBe(404);
    expect((await bob.api.GET('/api/address/')).data!.results.map((a) => a.id)).not.toContain(mine.id);
    const row = firstOf(await sql<{ city: string }>(app, 'select city from addresses where id = ?', [mine.id]));
    expect(row.city).toBe('Oxford');
    expect((await app.api.GET('/api/address/')).response.status).toBe(401);
  });

  it.each([
    ['a missing field', { ...home, city: undefined }, 'body.city'],
    ['a bad country code', { ...home, country: 'United Kingdom' }, 'body.country'],
    ['a lowercase country code', { ...home, country: 'gb' }, 'body.country'],
    ['a bad kind', { ...home, kind: 'holiday' }, 'body.kind'],
    ['an unknown field', { ...home, floor: 3 }, 'body.floor'],
    ['a too long line', { ...home, line1: 'x'.repeat(201) }, 'body.line1'],
    ['a bad postal code', { ...home, postal_code: '!!' }, 'body.postal_code'],
  ])('answers 400 for %s, writing nothing', async (_c, body, field) => {
    const before = await sql(app, 'select id from addresses where user_id = ?', [bob.user.id]);
    const res = await fetch(`${app.baseUrl}/api/address/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
    expect(await sql(app, 'select id from addresses where user_id = ?', [bob.user.id])).toEqual(before);
  });

  it('refuses an empty patch', async () => {
    const mine = (await bob.api.POST('/api/address/', { body: home })).data!;
    const res = await fetch(`${app.baseUrl}/api/address/${mine.id}/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.tokens.access}` },
      body: '{}',
    });
    expect(res.status).toBe(400);
  });
});
