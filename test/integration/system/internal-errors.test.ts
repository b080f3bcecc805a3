import { Writable } from 'node:stream';
import { handlers } from '../../../src/handlers';
import { createLogger } from '../../../src/logger';
import { hashPassword } from '../../../src/modules/accounts';
import { startApp, type TestApp } from '../../support/app';
import { actor } from '../../support/factories';

/**
 * Issue 12: no 500 body, in any environment, contains SQL, parameters or row values; the details
 * stay in the log, and the log holds no password, password hash or token. An unexpected database
 * failure is provoked for real (a statement PostgreSQL refuses), with the app's own logger.
 */
const PHONE = '5'.repeat(40); // too long for users.phone (varchar(20)): PostgreSQL refuses the statement
const PASSWORD = 'the-new-secret-password';

class Capture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  entries(): Record<string, any>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, any>);
  }
}

describe.each(['development', 'production'] as const)('an unexpected database failure (NODE_ENV=%s)', (env) => {
  let app: TestApp;
  let log: Capture;
  let hash: string;
  beforeAll(async () => {
    log = new Capture();
    hash = await hashPassword(PASSWORD);
    app = await startApp(
      { NODE_ENV: env },
      {
        ...handlers,
        // A profile update that writes a password hash along with a value the column cannot hold.
        updateMe: async ({ em, user }) => {
          await em.execute('update users set password_hash = ?, phone = ? where id = ?', [hash, PHONE, user.id]);
          throw new Error('unreachable: the statement above fails');
        },
      },
      { logger: createLogger('info', log) },
    );
  });
  afterAll(() => app.close());

  it('answers a generic 500 problem: no SQL, no parameters, no row values', async () => {
    const a = await actor(app);
    const res = await fetch(`${app.baseUrl}/api/auth/me/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.tokens.access}` },
      body: JSON.stringify({ first_name: 'Ada' }),
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' });
    for (const leak of [hash, '$argon2', PHONE, 'update users', 'password_hash', 'character varying', 'Failing row']) expect(text).not.toContain(leak);

    // The log has what explains the failure under the request id, and none of the values.
    const requestId = body.request_id as string;
    const failure = log.entries().find((e) => e.msg === 'request failed');
    expect(failure).toBeDefined();
    expect(failure!.reqId).toBe(requestId);
    expect(failure!.err).toMatchObject({ type: 'DriverException', code: '22001', routine: expect.any(String) });
    expect(failure!.err.message).toMatch(/^update users set password_hash = \?, phone = \? where id = \? - value too long for type character varying\(\?\)$/);
    for (const leak of [hash, '$argon2', PHONE, PASSWORD, a.tokens.access, a.tokens.refresh]) expect(log.text).not.toContain(leak);
    // The access log line names the request, and carries no headers (credentials included).
    const access = log.entries().find((e) => e.reqId === requestId && e.req);
    expect(access).toMatchObject({ level: 50, req: { method: 'PATCH', url: '/api/auth/me/' }, res: { statusCode: 500 } });
    expect(access!.req.headers).toBeUndefined();
  });

  it('logs no password, hash or token on the way through login and token refresh either', async () => {
    const a = await actor(app);
    await fetch(`${app.baseUrl}/api/auth/jwt/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: a.tokens.refresh }) });
    await fetch(`${app.baseUrl}/api/auth/jwt/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.user.username, password: 'wrong-password-here' }) });
    expect(log.lines.length).toBeGreaterThan(0);
    for (const leak of [a.password, 'wrong-password-here', a.tokens.access, a.tokens.refresh, '$argon2']) expect(log.text).not.toContain(leak);
  });
});
