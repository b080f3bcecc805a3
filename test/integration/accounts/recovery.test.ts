import { JOB_SCHEMA } from '../../../src/jobs/queue';
import type { LogMailer, SentMail } from '../../../src/jobs/mail';
import { startApp, type TestApp } from '../../support/app';
import { buyer, eventually, openShop, product, type Shop } from '../../support/checkout';
import { actor, login, registerCustomer, sql, uniqueName } from '../../support/factories';
import { codes, firstError, gql } from '../../support/graphql';
import { startTestWorker, type TestWorker } from '../../support/jobs';
import { firstOf } from '../../support/narrow';

/**
 * Password reset and email verification, through the SDK and GraphQL, with the mail read from the
 * worker's log transport.
 */
const TOKEN = /\n\n([A-Za-z0-9_-]{43})(?:\n|$)/;

async function withWorker(env: Record<string, string>) {
  const app = await startApp(env);
  const worker = await startTestWorker(app);
  return { app, worker };
}

let app: TestApp;
let worker: TestWorker;
beforeAll(async () => {
  ({ app, worker } = await withWorker({ ACCOUNT_MAIL_MAX_PER_EMAIL: '3', ACCOUNT_MAIL_MAX_PER_ADDRESS: '10000' }));
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

const mailsTo = (w: TestWorker, to: string, subject: string) => (w.mailer as LogMailer).sent.filter((m) => m.to === to && m.subject === subject);

/** Waits for the n-th mail with this subject to this address and answers the token it carries. */
async function tokenFrom(w: TestWorker, to: string, subject: string, n = 1): Promise<string> {
  const mails = await eventually(async () => mailsTo(w, to, subject), (m) => m.length >= n, 20_000);
  const mail: SentMail | undefined = mails[n - 1];
  const token = mail && TOKEN.exec(mail.text)?.[1];
  if (!token) throw new Error(`no token mailed to ${to} (${subject}); got ${mails.length} mails`);
  return token;
}
const resetToken = (w: TestWorker, to: string, n = 1) => tokenFrom(w, to, 'Reset your password', n);
const verificationToken = (w: TestWorker, to: string, n = 1) => tokenFrom(w, to, 'Verify your email address', n);

/**
 * Waits until every reset job sent so far has finished (the unknown-email case mails nothing, so
 * there is no mail to wait for), and answers the payloads of the jobs for nobody.
 */
async function resetJobsDone(a: TestApp): Promise<{ userId: number | null }[]> {
  const jobs = () => sql<{ state: string; data: { userId: number | null } }>(a, `select state, data from ${JOB_SCHEMA}.job where name = 'accounts.password-reset'`);
  const done = await eventually(jobs, (rows) => rows.length > 0 && rows.every((r) => r.state === 'completed'), 20_000);
  expect(done.every((r) => r.state === 'completed')).toBe(true);
  return done.map((r) => r.data).filter((d) => d.userId === null);
}

const requestReset = (email: string) => app.api.POST('/api/auth/password/reset/', { body: { email } });
const confirmReset = (token: string, new_password: string) => app.api.POST('/api/auth/password/reset/confirm/', { body: { token, new_password } });
const passwordHash = async (id: number) => firstOf(await sql<{ password_hash: string }>(app, 'select password_hash from users where id = ?', [id])).password_hash;

describe('password reset', () => {
  it('mails a single-use token that sets a new password and signs out every session', async () => {
    const a = await actor(app);
    const { data, response } = await requestReset(a.user.email.toUpperCase());
    expect(response.status).toBe(202);
    expect(data).toEqual({ detail: 'If an account uses that email, a password reset message is on its way.' });
    const token = await resetToken(worker, a.user.email);
    // Only the hash is stored.
    const rows = await sql<{ token_hash: string; expires_at: Date; used_at: Date | null }>(
      app,
      `select token_hash, expires_at, used_at from account_tokens t join users u on u.id = t.user_id where u.id = ? and purpose = 'password_reset'`,
      [a.user.id],
    );
    expect(rows).toHaveLength(1);
    expect(firstOf(rows).token_hash).not.toContain(token);
    const ttlMinutes = (new Date(firstOf(rows).expires_at).getTime() - Date.now()) / 60_000;
    expect(ttlMinutes).toBeGreaterThan(25);
    expect(ttlMinutes).toBeLessThanOrEqual(30);

    expect((await confirmReset(token, 'a-brand-new-password')).response.status).toBe(204);
    // The old password, the old refresh token and the old access token all stop working.
    expect((await app.api.POST('/api/auth/jwt/login/', { body: { username: a.user.username, password: a.password } })).response.status).toBe(401);
    const refresh = await app.api.POST('/api/auth/jwt/refresh/', { body: { refresh: a.tokens.refresh } });
    expect(refresh.response.status).toBe(401);
    expect((await a.api.GET('/api/auth/me/')).response.status).toBe(401);
    await login(app, a.user.username, 'a-brand-new-password');
    // Single use.
    const again = await confirmReset(token, 'yet-another-password');
    expect(again.response.status).toBe(400);
    expect(again.error).toMatchObject({ code: 'INVALID_RESET_TOKEN', errors: [{ field: 'body.token' }] });
    await login(app, a.user.username, 'a-brand-new-password');
  });

  it('answers an unknown email exactly like a known one, and mails nothing', async () => {
    const known = await registerCustomer(app);
    const unknown = `${uniqueName('nobody')}@example.com`;
    const forNobody = async () => (await sql(app, `select 1 from ${JOB_SCHEMA}.job where name = 'accounts.password-reset' and data->'userId' = 'null'::jsonb`)).length;
    const before = await forNobody();
    const a = await requestReset(known.user.email);
    const b = await requestReset(unknown);
    expect([a.response.status, b.response.status]).toEqual([202, 202]);
    expect(b.data).toEqual(a.data);
    // A job was sent for the unknown email too (the same work in the request), for nobody.
    expect((await resetJobsDone(app)).length).toBe(before + 1);
    await resetToken(worker, known.user.email);
    expect((worker.mailer as LogMailer).sent.filter((m) => m.to === unknown)).toEqual([]);
    expect(await sql(app, `select 1 from account_tokens t join users u on u.id = t.user_id where lower(u.email) = ?`, [unknown])).toEqual([]);
  });

  it('mails nothing for a deactivated account', async () => {
    const gone = await actor(app);
    await gone.api.DELETE('/api/users/{id}/', { params: { path: { id: gone.user.id } } });
    expect((await requestReset(gone.user.email)).response.status).toBe(202);
    await resetJobsDone(app);
    expect(mailsTo(worker, gone.user.email, 'Reset your password')).toEqual([]);
  });

  it('refuses an expired token, and a token once another reset of the account was used', async () => {
    const a = await actor(app);
    await requestReset(a.user.email);
    const first = await resetToken(worker, a.user.email, 1);
    await requestReset(a.user.email);
    const second = await resetToken(worker, a.user.email, 2);
    await sql(app, `update account_tokens set expires_at = now() - interval '1 second' where user_id = ? and purpose = 'password_reset'`, [a.user.id]);
    const before = await passwordHash(a.user.id);
    const expired = await confirmReset(first, 'a-brand-new-password');
    expect(expired.response.status).toBe(400);
    expect(expired.error!.code).toBe('INVALID_RESET_TOKEN');
    expect(await passwordHash(a.user.id)).toBe(before);

    await sql(app, `update account_tokens set expires_at = now() + interval '10 minutes' where user_id = ? and purpose = 'password_reset'`, [a.user.id]);
    expect((await confirmReset(second, 'a-brand-new-password')).response.status).toBe(204);
    // The first token was still live until the second was used; now it is not.
    expect((await confirmReset(first, 'another-new-password')).error!.code).toBe('INVALID_RESET_TOKEN');
    await login(app, a.user.username, 'a-brand-new-password');
  });

  it('lets exactly one of concurrent confirmations with one token win', async () => {
    const a = await actor(app);
    await requestReset(a.user.email);
    const token = await resetToken(worker, a.user.email);
    const passwords = ['first-new-password', 'second-new-password', 'third-new-password', 'fourth-new-password'];
    const answers = await Promise.all(passwords.map((p) => confirmReset(token, p)));
    const statuses = answers.map((r) => r.response.status).sort();
    expect(statuses).toEqual([204, 400, 400, 400]);
    const winner = passwords[answers.findIndex((r) => r.response.status === 204)]!;
    await login(app, a.user.username, winner);
  });

  it('refuses bad input naming the field, changing nothing', async () => {
    const a = await actor(app);
    await requestReset(a.user.email);
    const token = await resetToken(worker, a.user.email);
    const before = await passwordHash(a.user.id);
    const short = await confirmReset(token, 'short');
    expect(short.response.status).toBe(400);
    expect(short.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(short.error!.errors!.map((e) => e.field)).toEqual(['body.new_password']);
    const noToken = await confirmReset('', 'a-brand-new-password');
    expect(noToken.error!.errors!.map((e) => e.field)).toEqual(['body.token']);
    const notEmail = await requestReset('not-an-email');
    expect(notEmail.response.status).toBe(400);
    expect(notEmail.error!.errors!.map((e) => e.field)).toEqual(['body.email']);
    const unknownToken = await confirmReset('x'.repeat(43), 'a-brand-new-password');
    expect(unknownToken.error!.code).toBe('INVALID_RESET_TOKEN');
    expect(await passwordHash(a.user.id)).toBe(before);
    // The token survived the refused attempts.
    expect((await confirmReset(token, 'a-brand-new-password')).response.status).toBe(204);
  });

  it('throttles reset requests per email with 429 MAIL_THROTTLED and Retry-After, whether or not the email is registered', async () => {
    for (const email of [(await registerCustomer(app)).user.email, `${uniqueName('nobody')}@example.com`]) {
      for (let i = 0; i < 3; i += 1) expect((await requestReset(email)).response.status).toBe(202);
      const refused = await requestReset(email.toUpperCase());
      expect(refused.response.status).toBe(429);
      expect(refused.error!.code).toBe('MAIL_THROTTLED');
      expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});

describe('email verification', () => {
  const verify = (token: string) => app.api.POST('/api/auth/email/verify/', { body: { token } });

  it('mails a token at registration that verifies the email once', async () => {
    const a = await actor(app);
    expect(a.user.email_verified).toBe(false);
    const token = await verificationToken(worker, a.user.email);
    expect((await verify(token)).response.status).toBe(204);
    expect((await a.api.GET('/api/auth/me/')).data!.email_verified).toBe(true);
    const again = await verify(token);
    expect(again.response.status).toBe(400);
    expect(again.error).toMatchObject({ code: 'INVALID_VERIFICATION_TOKEN', errors: [{ field: 'body.token' }] });
    const resend = await a.api.POST('/api/auth/email/verify/resend/');
    expect(resend.response.status).toBe(409);
    expect(resend.error!.code).toBe('EMAIL_ALREADY_VERIFIED');
  });

  it('refuses an expired token, and resends a new one on request (throttled)', async () => {
    const a = await actor(app);
    const first = await verificationToken(worker, a.user.email);
    await sql(app, `update account_tokens set expires_at = now() - interval '1 second' where user_id = ? and purpose = 'email_verification'`, [a.user.id]);
    expect((await verify(first)).error!.code).toBe('INVALID_VERIFICATION_TOKEN');
    expect((await a.api.GET('/api/auth/me/')).data!.email_verified).toBe(false);
    const resent = await a.api.POST('/api/auth/email/verify/resend/');
    expect(resent.response.status).toBe(202);
    expect(resent.data).toEqual({ detail: 'A verification message is on its way to your email address.' });
    const second = await verificationToken(worker, a.user.email, 2);
    expect((await a.api.POST('/api/auth/email/verify/resend/')).response.status).toBe(202);
    expect((await a.api.POST('/api/auth/email/verify/resend/')).response.status).toBe(202);
    const throttled = await a.api.POST('/api/auth/email/verify/resend/');
    expect(throttled.response.status).toBe(429);
    expect(throttled.error!.code).toBe('MAIL_THROTTLED');
    expect((await verify(second)).response.status).toBe(204);
    expect((await a.api.GET('/api/auth/me/')).data!.email_verified).toBe(true);
  });

  it('makes a changed email unverified, voids the old tokens and mails the new address', async () => {
    const a = await actor(app);
    const old = await verificationToken(worker, a.user.email);
    await verify(old);
    await requestReset(a.user.email);
    const reset = await resetToken(worker, a.user.email);
    const email = `${uniqueName('moved')}@example.com`;
    const patched = await a.api.PATCH('/api/auth/me/', { body: { email } });
    expect(patched.data).toMatchObject({ email, email_verified: false });
    expect((await confirmReset(reset, 'a-brand-new-password')).error!.code).toBe('INVALID_RESET_TOKEN');
    const fresh = await verificationToken(worker, email);
    expect((await verify(fresh)).response.status).toBe(204);
    expect((await a.api.GET('/api/auth/me/')).data).toMatchObject({ email, email_verified: true });
  });

  it('refuses a bad token naming the field', async () => {
    const empty = await verify('');
    expect(empty.response.status).toBe(400);
    expect(empty.error!.errors!.map((e) => e.field)).toEqual(['body.token']);
  });
});

describe('GraphQL', () => {
  it('requests and confirms a reset, verifies an email and resends, with the same codes', async () => {
    const a = await actor(app);
    const requested = await gql(app, 'mutation($e: String!) { requestPasswordReset(email: $e) }', { e: a.user.email });
    expect(requested.data).toEqual({ requestPasswordReset: true });
    const unknown = await gql(app, 'mutation($e: String!) { requestPasswordReset(email: $e) }', { e: `${uniqueName('nobody')}@example.com` });
    expect(unknown.data).toEqual({ requestPasswordReset: true });
    const token = await resetToken(worker, a.user.email);
    const reset = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, new_password: $p) }';
    expect((await gql(app, reset, { t: token, p: 'short' })).errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await gql(app, reset, { t: token, p: 'a-brand-new-password' })).data).toEqual({ resetPassword: true });
    const used = await gql(app, reset, { t: token, p: 'a-brand-new-password' });
    expect(firstError(used).extensions).toMatchObject({ code: 'INVALID_RESET_TOKEN', status: 400 });
    const tokens = await login(app, a.user.username, 'a-brand-new-password');

    const me = await gql(app, '{ me { email_verified } }', {}, tokens.access);
    expect(me.data).toEqual({ me: { email_verified: false } });
    expect(codes(await gql(app, 'mutation { resendVerificationEmail }'))).toEqual(['NOT_AUTHENTICATED']);
    expect((await gql(app, 'mutation { resendVerificationEmail }', {}, tokens.access)).data).toEqual({ resendVerificationEmail: true });
    const verification = await verificationToken(worker, a.user.email, 2);
    const verify = 'mutation($t: String!) { verifyEmail(token: $t) }';
    expect((await gql(app, verify, { t: verification })).data).toEqual({ verifyEmail: true });
    expect(firstError(await gql(app, verify, { t: verification })).extensions).toMatchObject({ code: 'INVALID_VERIFICATION_TOKEN' });
    expect((await gql(app, '{ me { email_verified } }', {}, tokens.access)).data).toEqual({ me: { email_verified: true } });
    expect(codes(await gql(app, 'mutation { resendVerificationEmail }', {}, tokens.access))).toEqual(['EMAIL_ALREADY_VERIFIED']);
  });
});

describe('the order gate (REQUIRE_VERIFIED_EMAIL)', () => {
  it('lets an unverified account order when off (the default)', async () => {
    const shop = await openShop(app);
    const p = await product(app, shop, '5.00', 5);
    const b = await buyer(app, [{ variant: p.variants[0].id }]);
    expect(b.user.email_verified).toBe(false);
    expect((await b.api.POST('/api/order/', { body: { shipping_address: b.address } })).response.status).toBe(201);
  });

  describe('when on', () => {
    let gated: TestApp;
    let gatedWorker: TestWorker;
    let shop: Shop;
    beforeAll(async () => {
      ({ app: gated, worker: gatedWorker } = await withWorker({ REQUIRE_VERIFIED_EMAIL: 'true', ACCOUNT_MAIL_MAX_PER_ADDRESS: '3' }));
      shop = await openShop(gated);
    });
    afterAll(async () => {
      await gatedWorker.stop();
      await gated.close();
    });

    it('refuses an unverified account 403 EMAIL_NOT_VERIFIED (REST and GraphQL), placing nothing, then accepts it verified', async () => {
      const p = await product(gated, shop, '5.00', 5);
      const b = await buyer(gated, [{ variant: p.variants[0].id }]);
      const refused = await b.api.POST('/api/order/', { body: { shipping_address: b.address } });
      expect(refused.response.status).toBe(403);
      expect(refused.error!.code).toBe('EMAIL_NOT_VERIFIED');
      const viaGraphql = await gql(gated, 'mutation($a: Int!) { placeOrder(input: { shipping_address: $a }) { id } }', { a: b.address }, b.tokens.access);
      expect(firstError(viaGraphql).extensions).toMatchObject({ code: 'EMAIL_NOT_VERIFIED', status: 403 });
      expect(await sql(gated, 'select id from orders where user_id = ?', [b.user.id])).toEqual([]);

      const token = await verificationToken(gatedWorker, b.user.email);
      expect((await gated.api.POST('/api/auth/email/verify/', { body: { token } })).response.status).toBe(204);
      expect((await b.api.POST('/api/order/', { body: { shipping_address: b.address } })).response.status).toBe(201);
    });

    it('throttles reset requests per client address across emails', async () => {
      const ask = (n: number) => gated.api.POST('/api/auth/password/reset/', { body: { email: `${uniqueName(`addr${n}`)}@example.com` } });
      for (let i = 0; i < 3; i += 1) expect((await ask(i)).response.status).toBe(202);
      const refused = await ask(3);
      expect(refused.response.status).toBe(429);
      expect(refused.error!.code).toBe('MAIL_THROTTLED');
    });
  });
});
