import { EventEmitter } from 'node:events';
import { DriverException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { databaseFault, isDeadConnection, isPlainRead, replicaFailure } from '../../src/db/faults';
import { isSaturated, type PoolClient, STALLED_AFTER_MS, watchPool } from '../../src/db/pools';
import { sessionSettings } from '../../src/db/timeouts';
import { toProblem } from '../../src/http/problem';

/** An error as pg reports a server's ErrorResponse: the SQLSTATE in `code`, and a severity. */
const pgError = (code: string, message: string, severity = 'ERROR') => Object.assign(new Error(message), { code, severity });
/** An error as Node reports a socket's. */
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });
/** knex's pool timeout (its class is not exported; the name and message are what reach us). */
const acquireTimeout = () => Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?'), { name: 'KnexTimeoutError' });

describe('databaseFault', () => {
  it.each([
    ['a refused connection', socketError('ECONNREFUSED')],
    ['a reset connection', socketError('ECONNRESET')],
    ['an unreachable host', socketError('EHOSTUNREACH')],
    ['every address refusing (AggregateError)', new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], 'connect failed')],
    ['a fast or immediate shutdown (57P01)', pgError('57P01', 'terminating connection due to administrator command', 'FATAL')],
    ['a crash of another backend (57P02)', pgError('57P02', 'terminating connection because of crash of another server process', 'FATAL')],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up', 'FATAL')],
    ['a connection failure (08006)', pgError('08006', 'connection failure')],
    ['too many connections (53300)', pgError('53300', 'sorry, too many clients already', 'FATAL')],
    ['a socket that ended mid-query, as knex words it', new Error('select 1 - Connection terminated unexpectedly')],
    ['a client pg already knows is broken', new Error('Client has encountered a connection error and is not queryable')],
    ['a connect timeout', new Error('timeout expired')],
    ['a MikroORM wrapper of any of them', new DriverException(pgError('57P01', 'terminating connection due to administrator command', 'FATAL'))],
    ['a cause chain', new Error('begin failed', { cause: socketError('ECONNREFUSED') })],
  ])('%s: the database is unreachable', (_, err) => {
    expect(databaseFault(err)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
  });

  it.each([
    ['a lock wait past lock_timeout (55P03)', pgError('55P03', 'canceling statement due to lock timeout')],
    ['a statement past statement_timeout (57014)', pgError('57014', 'canceling statement due to statement timeout')],
    ['a pool acquire timeout', acquireTimeout()],
    ['a pool acquire timeout, wrapped', new DriverException(acquireTimeout())],
  ])('%s: the database is busy', (_, err) => {
    expect(databaseFault(err)).toMatchObject({ code: 'DATABASE_BUSY', retryAfterSeconds: 2 });
  });

  it.each([
    ['a unique violation', new UniqueConstraintViolationException(pgError('23505', 'duplicate key value violates unique constraint "x"'))],
    ['a syntax error', pgError('42601', 'syntax error at or near "selec"')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a client that hung up mid-body (an HTTP error)', Object.assign(new Error('request aborted'), { code: 'ECONNABORTED', status: 400, type: 'request.aborted' })],
    ['an HTTP error whatever its code says', Object.assign(new Error('x'), { code: 'ECONNRESET', statusCode: 400 })],
    ['nothing at all', undefined],
  ])('%s is not a database fault', (_, err) => {
    expect(databaseFault(err)).toBeUndefined();
  });
});

describe('toProblem for database faults', () => {
  it('answers an unreachable database with 503 SERVICE_UNAVAILABLE and Retry-After, without internals', () => {
    const p = toProblem(socketError('ECONNREFUSED'), true);
    expect(p.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', type: '/problems/service-unavailable', detail: 'The database is not reachable.' });
    expect(p.headers['Retry-After']).toBe('5');
    expect(JSON.stringify(p.body)).not.toContain('127.0.0.1');
    expect(p.unexpected).toBe(true);
  });

  it('answers a lock, statement or pool timeout with 503 DATABASE_BUSY and Retry-After', () => {
    for (const err of [pgError('55P03', 'canceling statement due to lock timeout'), pgError('57014', 'canceling statement due to statement timeout'), acquireTimeout()]) {
      const p = toProblem(err);
      expect(p.body).toMatchObject({ status: 503, code: 'DATABASE_BUSY', type: '/problems/database-busy', title: 'Database busy' });
      expect(p.headers['Retry-After']).toBe('2');
    }
  });

  it('leaves other driver errors to the generic 500', () => {
    expect(toProblem(pgError('42601', 'syntax error')).body).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
  });
});

describe('isDeadConnection', () => {
  it.each([
    ['57P01, the server ended the session', pgError('57P01', 'terminating connection due to administrator command', 'FATAL')],
    ['any FATAL error', pgError('XX000', 'something fatal', 'FATAL')],
    ['a connection failure (08006)', pgError('08006', 'connection failure')],
    ['a socket that ended mid-query', new Error('select 1 - Connection terminated unexpectedly')],
    ['a reset socket', socketError('ECONNRESET')],
    ['a client pg already knows is broken', new Error('Client has encountered a connection error and is not queryable')],
  ])('%s: the connection is dead', (_, err) => {
    expect(isDeadConnection(err)).toBe(true);
  });

  it.each([
    ['a refused new connection (another attempt would meet the same)', socketError('ECONNREFUSED')],
    ['a pool timeout', acquireTimeout()],
    ['a lock timeout (the connection is fine)', pgError('55P03', 'canceling statement due to lock timeout')],
    ['a constraint violation', pgError('23505', 'duplicate key')],
  ])('%s: the connection is not dead', (_, err) => {
    expect(isDeadConnection(err)).toBe(false);
  });
});

describe('replicaFailure', () => {
  it.each([
    ['a replica stopped under the read (57P01)', pgError('57P01', 'terminating connection due to administrator command', 'FATAL')],
    ['a replica that refuses connections', socketError('ECONNREFUSED')],
    ['a socket that ended mid-query', new Error('select 1 - Connection terminated unexpectedly')],
    ['a frozen replica (pg gave up waiting: query_timeout)', new Error('Query read timeout')],
    ['the same, as knex words it', new Error('select id, name from categories - Query read timeout')],
  ])('is down for %s: the read runs on the primary and the replica is skipped', (_what, err) => {
    expect(replicaFailure(err)).toBe('down');
  });

  it.each([
    ['a write that reached the replica (25006)', pgError('25006', 'cannot execute UPDATE in a read-only transaction')],
    ['a recovery conflict (40001)', pgError('40001', 'canceling statement due to conflict with recovery')],
  ])('is refused for %s: the read runs on the primary, the replica stays in use', (_what, err) => {
    expect(replicaFailure(err)).toBe('refused');
  });

  it("is busy when the replica's pool lent no connection in time: the read runs on the primary, the replica stays in use", () => {
    expect(replicaFailure(acquireTimeout())).toBe('busy');
  });

  it.each([
    ['a statement timeout (the primary would time out too)', pgError('57014', 'canceling statement due to statement timeout')],
    ['a syntax error', pgError('42601', 'syntax error at or near "selec"')],
    ['an application error', new Error('not found')],
  ])('is nothing for %s: the failure is the statement’s own', (_what, err) => {
    expect(replicaFailure(err)).toBeUndefined();
  });
});

describe('isPlainRead', () => {
  it.each([
    'select 1',
    '  SELECT id, updated_at FROM products WHERE id = ?',
    'with t as (select id from products) select * from t',
    '(select id from a) union (select id from b)',
    '-- the list\nselect id from products',
    '/* detail */ select id from products where id = $1',
    'select name, statement from pg_prepared_statements order by prepare_time',
  ])('%j only reads', (sql) => {
    expect(isPlainRead(sql)).toBe(true);
  });

  it.each([
    'insert into carts (user_id) values (?) returning id',
    'update carts set updated_at = now() where user_id = ? returning id',
    'delete from cart_items where id = ? returning id',
    'with moved as (update product_variants set stock = stock - 1 where id = ? returning stock) select * from moved',
    'select id from products where id = any(?::int[]) order by id for update',
    'select id from orders where id = ? for no key update',
    'select id from products for share',
    'select id from products for update nowait',
    "select set_config('app.stock_reason', ?, true)",
    'select pg_advisory_xact_lock(hashtext(?))',
    'select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked',
    "select nextval('orders_id_seq')",
    'select * into backup from orders',
    'values (1)',
    'begin',
    'truncate orders',
  ])('%j may change something: never retried, never on the read pool', (sql) => {
    expect(isPlainRead(sql)).toBe(false);
  });
});

describe('sessionSettings', () => {
  const limits = { readPoolMax: 4, acquireTimeoutMs: 5000, lockTimeoutMs: 3000, statementTimeoutMs: 15000, readStatementTimeoutMs: 10000 };

  it('gives the write pool the write statement timeout and the read pool the read one; both the lock timeout and connect timeout', () => {
    expect(sessionSettings(limits, 'write')).toEqual({ application_name: 'ecommerce-backend:write', connectionTimeoutMillis: 5000, lock_timeout: 3000, statement_timeout: 15000 });
    expect(sessionSettings(limits, 'read')).toEqual({ application_name: 'ecommerce-backend:read', connectionTimeoutMillis: 5000, lock_timeout: 3000, statement_timeout: 10000 });
  });
});

describe('isSaturated', () => {
  /** A knex client and tarn pool as far as the pools look at them, with every connection lent and `queued` waiting. */
  function fakePool(queued: number) {
    const events = new EventEmitter();
    const pool = { max: 2, numUsed: () => 2, numPendingAcquires: () => queued, on: (event: string, listener: () => void) => void events.on(event, listener) };
    const client = { pool, acquireConnection: () => Promise.reject(new Error('unused')), releaseConnection: () => Promise.resolve(), on: () => undefined } as unknown as PoolClient;
    watchPool(client);
    return { client, events };
  }

  it('is a pool with every connection lent, requests queued, and nothing lent or returned for a while', () => {
    const { client, events } = fakePool(3);
    events.emit('acquireSuccess', 1, {});
    const moved = Date.now();
    expect(isSaturated(client, moved + 10)).toBe(false);
    expect(isSaturated(client, moved + STALLED_AFTER_MS)).toBe(true);
    events.emit('release', {});
    expect(isSaturated(client, Date.now() + 10)).toBe(false);
  });

  it('is not a full pool nobody waits for', () => {
    const { client } = fakePool(0);
    expect(isSaturated(client, Date.now() + 60_000)).toBe(false);
  });
});
