import { decode } from 'jsonwebtoken';
import { startApp, type TestApp } from '../../support/app';
import { actor, sql } from '../../support/factories';
import { killedAt, type ServerProcess, startServer } from '../../support/processes';

/**
 * Refresh-token rotation killed (SIGKILL, by an armed failpoint) between marking the presented token
 * used and recording its successor: both are one transaction, so the session survives.
 */
// Real server processes (tsx compiles the app each time): slow on a busy machine.
jest.setTimeout(180_000);

let app: TestApp;
const servers: ServerProcess[] = [];
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await app.close();
});

const jti = (token: string) => (decode(token) as { jti: string; fam: string }).jti;
const familyOf = (token: string) => (decode(token) as { fam: string }).fam;

it('a rotation killed after marking the token used leaves it valid, and the session goes on', async () => {
  const customer = await actor(app);
  const armed = await startServer(app, { FAILPOINTS: 'auth.refresh.after-use' });
  servers.push(armed);
  await expect(armed.api.POST('/api/auth/jwt/refresh/', { body: { refresh: customer.tokens.refresh } })).rejects.toThrow();
  await killedAt(armed, 'auth.refresh.after-use');
  // Rolled back: the token is not used, and no successor was written.
  expect(await sql(app, 'select used_at, revoked_at from refresh_tokens where id = ?', [jti(customer.tokens.refresh)])).toEqual([{ used_at: null, revoked_at: null }]);
  expect(await sql(app, 'select id from refresh_tokens where family_id = ?', [familyOf(customer.tokens.refresh)])).toHaveLength(1);

  const restarted = await startServer(app);
  servers.push(restarted);
  const rotated = await restarted.api.POST('/api/auth/jwt/refresh/', { body: { refresh: customer.tokens.refresh } });
  expect(rotated.response.status).toBe(200);
  const me = await restarted.as(rotated.data!.access).GET('/api/auth/me/');
  expect(me.data).toMatchObject({ id: customer.user.id });
  // The successor rotates in turn; the old token, now used, is refused (and revokes the family).
  expect((await restarted.api.POST('/api/auth/jwt/refresh/', { body: { refresh: rotated.data!.refresh } })).response.status).toBe(200);
  expect((await restarted.api.POST('/api/auth/jwt/refresh/', { body: { refresh: customer.tokens.refresh } })).error).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
});
