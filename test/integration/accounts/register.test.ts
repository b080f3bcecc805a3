import { startApp, type TestApp } from '../../support/app';
import { sql, uniqueName } from '../../support/factories';
import { firstOf } from '../../support/narrow';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

const userCount = async () => Number(firstOf(await sql<{ n: string }>(app, 'select count(*) as n from users')).n);

/** Posts a raw body, bypassing the typed client, to send what the contract forbids. */
async function rawPost(path: string, body: string, contentType = 'application/json') {
  const res = await fetch(app.baseUrl + path, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
}

describe('POST /api/auth/register/', () => {
  it('creates a customer and answers 201 with the user and its Location', async () => {
    const username = uniqueName('Ada');
    const { data, response } = await app.api.POST('/api/auth/register/', {
      body: { username, email: `${username}@Example.com`, password: 'correct-horse-battery', first_name: ' Ada ', last_name: 'Lovelace', phone: '+44 20 7946 0958' },
    });
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ username, role: 'customer', is_active: true, first_name: 'Ada', last_name: 'Lovelace', last_login: null });
    expect(response.headers.get('location')).toBe(`${app.baseUrl}/api/users/${data!.id}/`);
    const row = firstOf(await sql<{ password_hash: string }>(app, 'select password_hash from users where id = ?', [data!.id]));
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(JSON.stringify(data)).not.toContain('password');
  });

  it('refuses a username taken in any letter case with 409 USERNAME_TAKEN', async () => {
    const username = uniqueName('dup');
    await app.api.POST('/api/auth/register/', { body: { username, email: `${username}@example.com`, password: 'a-good-password' } });
    const before = await userCount();
    const { error, response } = await app.api.POST('/api/auth/register/', {
      body: { username: username.toUpperCase(), email: `other-${username}@example.com`, password: 'a-good-password' },
    });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(error).toMatchObject({ code: 'USERNAME_TAKEN', status: 409, type: '/problems/username-taken' });
    expect(await userCount()).toBe(before);
  });

  it('refuses an email taken in any letter case with 409 EMAIL_TAKEN', async () => {
    const username = uniqueName('mail');
    await app.api.POST('/api/auth/register/', { body: { username, email: `${username}@example.com`, password: 'a-good-password' } });
    const { error, response } = await app.api.POST('/api/auth/register/', {
      body: { username: uniqueName(), email: `${username.toUpperCase()}@EXAMPLE.com`, password: 'a-good-password' },
    });
    expect(response.status).toBe(409);
    expect(error).toMatchObject({ code: 'EMAIL_TAKEN' });
  });

  it('registers exactly one of two concurrent registrations of one username', async () => {
    const username = uniqueName('race');
    const attempt = (i: number) =>
      app.api.POST('/api/auth/register/', { body: { username, email: `${username}-${i}@example.com`, password: 'a-good-password' } });
    const results = await Promise.all([attempt(1), attempt(2), attempt(3)]);
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 409, 409]);
    expect((await sql(app, 'select 1 from users where lower(username) = lower(?)', [username])).length).toBe(1);
  });

  const valid = { username: 'valid_user', email: 'valid@example.com', password: 'a-good-password' };
  it.each([
    ['a missing field', { username: 'nopass', email: 'nopass@example.com' }, 'body.password'],
    ['a wrong type', { ...valid, username: 12345 }, 'body.username'],
    ['an unknown field', { ...valid, nickname: 'x' }, 'body.nickname'],
    ['a role (registration is always customer)', { ...valid, role: 'admin' }, 'body.role'],
    ['a malformed email', { ...valid, email: 'not-an-email' }, 'body.email'],
    ['a short password', { ...valid, password: 'short' }, 'body.password'],
    ['a long password', { ...valid, password: 'x'.repeat(129) }, 'body.password'],
    ['a username with spaces', { ...valid, username: 'two words' }, 'body.username'],
    ['a too short username', { ...valid, username: 'ab' }, 'body.username'],
    ['a malformed phone', { ...valid, phone: 'call me' }, 'body.phone'],
    ['a null body field', { ...valid, email: null }, 'body.email'],
  ])('answers 400 naming the field for %s, and writes nothing', async (_case, body, field) => {
    const before = await userCount();
    const res = await rawPost('/api/auth/register/', JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, type: '/problems/validation-error', instance: '/api/auth/register/' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await userCount()).toBe(before);
  });

  it('lists every offending field at once', async () => {
    const res = await rawPost('/api/auth/register/', JSON.stringify({ username: 'x', email: 'nope', password: '1' }));
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.email', 'body.password', 'body.username']);
  });

  it('answers 400 MALFORMED_JSON for a body that is not JSON', async () => {
    const res = await rawPost('/api/auth/register/', '{"username": ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
  });

  it('answers 415 for a body that is not application/json', async () => {
    const res = await rawPost('/api/auth/register/', 'username=a&password=b', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 for an oversized body, and writes nothing', async () => {
    const before = await userCount();
    const res = await rawPost('/api/auth/register/', JSON.stringify({ ...valid, first_name: 'x'.repeat(200_000) }));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await userCount()).toBe(before);
  });

  it('never leaks internals in a problem', async () => {
    const res = await rawPost('/api/auth/register/', '[1,2,3]');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+|select |insert /i);
  });
});

describe('concurrent registrations of one email', () => {
  it('answers EMAIL_TAKEN (not USERNAME_TAKEN) to the losers', async () => {
    const email = `${uniqueName('shared')}@example.com`;
    const results = await Promise.all(
      [1, 2, 3].map(() => app.api.POST('/api/auth/register/', { body: { username: uniqueName('mail'), email, password: 'a-good-password' } })),
    );
    const losers = results.filter((r) => r.response.status === 409);
    expect(losers).toHaveLength(2);
    for (const l of losers) expect(l.error!.code).toBe('EMAIL_TAKEN');
  });
});
