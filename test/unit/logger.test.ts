import { Writable } from 'node:stream';
import { DriverException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { maskError } from '../../src/graphql/errors';
import { createLogger, serializeError, withoutValues } from '../../src/logger';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', stream), text: () => lines.join('') };
}

/** A database error as MikroORM raises it: the statement with its values inlined, PostgreSQL's fields alongside. */
function driverError(Kind: typeof DriverException = DriverException): DriverException {
  const pg = Object.assign(
    new Error(`insert into "users" ("username", "password_hash", "phone") values ('bob', '${HASH}', '555-0100') - duplicate key value violates unique constraint "users_username_unique"\n - detail: Key (username)=(bob) already exists.`),
    { code: '23505', severity: 'ERROR', routine: '_bt_check_unique', table: 'users', constraint: 'users_username_unique', detail: 'Key (username)=(bob) already exists.', where: 'row (bob, secret)' },
  );
  return new Kind(pg);
}

describe('the log never holds secrets or row values', () => {
  it('redacts credentials headers, passwords, hashes and tokens', () => {
    const { logger, text } = capture();
    logger.info({
      req: { headers: { authorization: `Bearer ${JWT}`, cookie: 'session=abc' } },
      body: { password: 'pw-1', current_password: 'pw-2', new_password: 'pw-3', password_hash: HASH, refresh: JWT, access: JWT, token: 'tok', reset_token: 'rst' },
    });
    const out = text();
    for (const secret of ['pw-1', 'pw-2', 'pw-3', HASH, JWT, 'session=abc', '"tok"', 'rst']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('logs a database error with its class, SQLSTATE, table and constraint, and the statement without its values', () => {
    const serialized = serializeError(driverError(UniqueConstraintViolationException)) as Record<string, unknown>;
    expect(serialized).toMatchObject({ type: 'UniqueConstraintViolationException', code: '23505', table: 'users', constraint: 'users_username_unique', routine: '_bt_check_unique' });
    expect(serialized.message).toBe('insert into "users" ("username", "password_hash", "phone") values (?, ?, ?) - duplicate key value violates unique constraint "users_username_unique"');
    const all = JSON.stringify(serialized);
    for (const leak of [HASH, 'bob', '555-0100', 'Key (username)', 'row (', 'secret']) expect(all).not.toContain(leak);
    expect(serialized.stack).toMatch(/^UniqueConstraintViolationException: insert into "users"[^\n]*\n\s+at /);
  });

  it('scrubs errors logged through a logger, and wraps of them (pino-http hands over the serialized error)', () => {
    const { logger, text } = capture();
    logger.error({ err: driverError() }, 'request failed');
    logger.error({ err: new Error(`token ${JWT} and hash ${HASH} in a message`) }, 'other');
    expect(serializeError({ raw: driverError(), message: 'x' })).toMatchObject({ type: 'DriverException', code: '23505' });
    const out = text();
    for (const leak of [HASH, JWT, 'bob', '555-0100']) expect(out).not.toContain(leak);
  });

  it.each([
    [`where "email" = 'a@b.c' and id = 42`, `where "email" = ? and id = ?`],
    [`values (E'it\\'s', 'o''clock', $$dollar$$, -3.5)`, `values (?, ?, ?, ?)`],
    [`invalid input syntax for type integer: "abc"`, `invalid input syntax for type integer: "?"`],
    [`Key (email)=(a@b.c) already exists`, `Key (email)=(?) already exists`],
    [`relation "users" column "t1"`, `relation "users" column "t1"`],
  ])('withoutValues(%j)', (text, expected) => expect(withoutValues(text)).toBe(expected));
});

describe('GraphQL errors', () => {
  it('say nothing of an unexpected failure, even where internals may be shown, and log it scrubbed', () => {
    const { logger, text } = capture();
    const masked = maskError(logger, true)(new GraphQLError('boom', { originalError: driverError() }));
    expect(masked).toBeInstanceOf(GraphQLError);
    expect(masked.message).toBe('An unexpected error occurred.');
    expect((masked as GraphQLError).extensions).toMatchObject({ code: 'INTERNAL_ERROR', status: 500 });
    expect(JSON.stringify(masked)).not.toMatch(/insert|argon2|bob/);
    expect(text()).toContain('"code":"23505"');
    expect(text()).not.toContain(HASH);
  });
});
