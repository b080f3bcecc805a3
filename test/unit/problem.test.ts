import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { fieldOf, toProblem } from '../../src/http/problem';
import { DomainError } from '../../src/shared/errors';
import { firstOf } from '../support/narrow';

describe('toProblem', () => {
  it.each([
    ['invalid', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['conflict', 409],
    ['unprocessable', 422],
    ['throttled', 429],
    ['unavailable', 503],
  ] as const)('maps a %s domain error to %i', (kind, status) => {
    const p = toProblem(new DomainError(kind, 'SOME_CODE', 'Something.'));
    expect(p.body).toMatchObject({ status, code: 'SOME_CODE', type: '/problems/some-code', title: 'Some code', detail: 'Something.' });
  });

  it('keeps validation problems within the contract: at most 100 issues, bounded texts', () => {
    const issues = Array.from({ length: 150 }, (_, i) => ({ path: `/body/f${i}`, message: 'x'.repeat(5000) }));
    const p = toProblem({ status: 400, errors: issues, message: 'bad' });
    expect(p.body.errors).toHaveLength(100);
    expect(firstOf(p.body.errors!).field).toBe('body.f0');
    expect(firstOf(p.body.errors!).message.length).toBe(1024);
  });

  it('adds Retry-After to throttling and WWW-Authenticate to 401', () => {
    expect(toProblem(new DomainError('throttled', 'SLOW_DOWN', 'x', {}, 12.2)).headers['Retry-After']).toBe('13');
    expect(toProblem(DomainError.unauthenticated('X', 'y')).headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('answers a constraint violation no service translated as a generic 500, without its SQL (the contract promises no such 409)', () => {
    const err = new UniqueConstraintViolationException(Object.assign(new Error('insert into "users" ... duplicate key value violates unique constraint "x"'), { code: '23505' }));
    const p = toProblem(err);
    expect(p.body).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(p.unexpected).toBe(true);
    expect(JSON.stringify(p.body)).not.toMatch(/insert|duplicate key/);
  });

  it('hides unexpected errors behind a generic 500, in every environment (issue 12: a driver message carries SQL and values)', () => {
    const secret = new Error('connection to 10.0.0.5 refused');
    expect(toProblem(secret).body).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' });
    expect(toProblem(secret).unexpected).toBe(true);
    expect(toProblem(secret, true).body.detail).toBe('An unexpected error occurred.');
  });

  it('maps body-parser failures', () => {
    expect(toProblem({ type: 'entity.too.large', status: 413 }).body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(toProblem({ type: 'entity.parse.failed', status: 400 }).body).toMatchObject({ code: 'MALFORMED_JSON', title: 'Malformed JSON' });
  });
});

describe('fieldOf', () => {
  it.each([
    ['/body/email', 'body.email'],
    ['.body.email', 'body.email'],
    ['.query.page_size', 'query.page_size'],
    ['.params.id', 'path.id'],
    ['/body/items/0/quantity', 'body.items[0].quantity'],
    ['', 'request'],
  ])('%p → %p', (given, expected) => expect(fieldOf(given)).toBe(expected));
});
