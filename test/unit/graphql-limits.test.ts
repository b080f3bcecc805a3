import { randomBytes } from 'node:crypto';
import { buildSchema, parse, validate } from 'graphql';
import { typeDefs } from '../../generated/graphql-schema';
import { limitRules } from '../../src/graphql/limits';
import { Pager } from '../../src/http/pagination';
import { CursorCodec } from '../../src/shared/cursor';
import { DomainError } from '../../src/shared/errors';

const schema = buildSchema(typeDefs);
const limits = { maxDepth: 6, maxAliases: 2, maxCost: 50 };
const check = (query: string, variables?: Record<string, unknown>) =>
  validate(schema, parse(query), limitRules(limits, variables)).map((e) => [e.extensions.code, e.extensions.actual]);

describe('GraphQL limits', () => {
  it('measures depth through fragments and inline fragments', () => {
    expect(check('{ categoryTree { children { children { children { children { id } } } } } }')).toEqual([]);
    expect(check('{ categoryTree { children { children { children { children { children { id } } } } } } }')).toEqual([['QUERY_TOO_DEEP', 7]]);
    expect(
      check('{ categoryTree { ...f } } fragment f on CategoryNode { children { ... on CategoryNode { children { children { children { children { id } } } } } } }'),
    ).toEqual([['QUERY_TOO_DEEP', 7]]);
  });

  it('counts aliases across the document', () => {
    expect(check('{ a: categoryTree { id } b: categoryTree { id } }')).toEqual([]);
    expect(check('{ a: categoryTree { id } b: categoryTree { x: id } }')).toEqual([['TOO_MANY_ALIASES', 3]]);
  });

  it('multiplies costs by page sizes: literal, variable, default', () => {
    // products(first: 10): 1 + 10 * (edges 1 + node 1 + category 1) = 31
    expect(check('{ products(first: 10) { edges { node { id category { id } } } } }')).toEqual([]);
    expect(check('{ products(first: 20) { edges { node { id category { id } } } } }')).toEqual([['QUERY_TOO_COMPLEX', 61]]);
    expect(check('query($n: Int) { products(first: $n) { edges { node { id category { id } } } } }', { n: 10 })).toEqual([]);
    // Unknown variables count as the largest page; an absent one as the field's default (20).
    expect(check('query($n: Int) { products(first: $n) { edges { node { id } } } }', { n: 'x' })).toEqual([['QUERY_TOO_COMPLEX', 201]]);
    expect(check('{ products { edges { node { id category { id } } } } }')).toEqual([['QUERY_TOO_COMPLEX', 61]]);
    // Scalars are free; introspection is not counted.
    expect(check('{ __schema { types { name fields { name } } } }')).toEqual([]);
  });
});

describe('Pager.connection', () => {
  const pager = new Pager(new CursorCodec(randomBytes(32)));
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as DomainError).code;
    }
    return undefined;
  };

  it('reads Relay arguments into the REST page requests, with one signed cursor per row', () => {
    expect(pager.connection({})(['s'])).toEqual({ page: { kind: 'cursor', size: 20 }, scope: null });
    const cursor = pager.cursorOf('s', ['2026-01-01', 7]);
    expect(pager.connection({ first: 5, after: cursor })(['other', 's'])).toEqual({ page: { kind: 'cursor', size: 5, after: ['2026-01-01', 7] }, scope: 's' });
    expect(pager.connection({ last: 3, before: cursor })(['s'])).toEqual({ page: { kind: 'cursor', size: 3, before: ['2026-01-01', 7] }, scope: 's' });
  });

  it('refuses mixed directions, bad sizes and foreign or altered cursors', () => {
    const cursor = pager.cursorOf('s', [1, 1]);
    expect(refusal(() => pager.connection({ first: 1, before: cursor })(['s']))).toBe('INVALID_PAGINATION');
    expect(refusal(() => pager.connection({ last: 1 })(['s']))).toBe('INVALID_PAGINATION');
    expect(refusal(() => pager.connection({ first: 101 })(['s']))).toBe('VALIDATION_ERROR');
    expect(refusal(() => pager.connection({ after: cursor })(['t']))).toBe('INVALID_CURSOR');
    expect(refusal(() => pager.connection({ after: `${cursor}x` })(['s']))).toBe('INVALID_CURSOR');
  });
});
