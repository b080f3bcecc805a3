import { startApp, type TestApp } from '../../support/app';
import { actor, sql } from '../../support/factories';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe('GET and PATCH /api/auth/me/', () => {
  it('reads and updates my own name, phone and email', async () => {
    const a = await actor(app);
    const { data, response } = await a.api.PATCH('/api/auth/me/', {
      body: { first_name: 'Grace', last_name: 'Hopper', phone: '+1 202 555 0101', email: `new-${a.user.username}@example.com` },
    });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ first_name: 'Grace', last_name: 'Hopper', phone: '+1 202 555 0101', email: `new-${a.user.username}@example.com` });
    expect(Date.parse(data!.updated_at)).toBeGreaterThanOrEqual(Date.parse(a.user.updated_at));
    const again = await a.api.GET('/api/auth/me/');
    expect(again.data).toEqual(data);
  });

  it('clears the phone with null', async () => {
    const a = await actor(app);
    await a.api.PATCH('/api/auth/me/', { body: { phone: '+1 202 555 0101' } });
    const { data } = await a.api.PATCH('/api/auth/me/', { body: { phone: null } });
    expect(data!.phone).toBeNull();
  });

  it('answers 409 EMAIL_TAKEN for another account email, and changes nothing', async () => {
    const a = await actor(app);
    const b = await actor(app);
    const { error, response } = await a.api.PATCH('/api/auth/me/', { body: { email: b.user.email.toUpperCase(), first_name: 'Changed' } });
    expect(response.status).toBe(409);
    expect(error!.code).toBe('EMAIL_TAKEN');
    expect((await a.api.GET('/api/auth/me/')).data).toMatchObject({ email: a.user.email, first_name: a.user.first_name });
  });

  it('keeps my own email when only its case changes', async () => {
    const a = await actor(app);
    const { response } = await a.api.PATCH('/api/auth/me/', { body: { email: a.user.email.toUpperCase() } });
    expect(response.status).toBe(200);
  });

  it.each([
    ['role', { role: 'admin' }],
    ['is_active', { is_active: true }],
    ['username', { username: 'someone-else' }],
    ['an empty patch', {}],
    ['a malformed email', { email: 'nope' }],
    ['a too long name', { first_name: 'x'.repeat(151) }],
  ])('refuses %s with 400 and changes nothing', async (_c, body) => {
    const a = await actor(app);
    const res = await fetch(`${app.baseUrl}/api/auth/me/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.tokens.access}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const [row] = await sql(app, 'select role, is_active, username, email, first_name from users where id = ?', [a.user.id]);
    expect(row).toEqual({ role: 'customer', is_active: true, username: a.user.username, email: a.user.email, first_name: '' });
  });

  it('answers 401 without a token', async () => {
    expect((await app.api.PATCH('/api/auth/me/', { body: { first_name: 'x' } })).response.status).toBe(401);
  });
});
