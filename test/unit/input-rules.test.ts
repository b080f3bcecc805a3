import { isStrictDate, isStrictDateTime } from '../../src/http/formats';
import { hostnameOf, isAllowedHost } from '../../src/http/hosts';
import { checkIntegerParameters, integerParametersOf, normalizeQuery, nulIssues } from '../../src/http/input-guard';
import { issuesAgainst } from '../../src/http/schemas';
import { DomainError } from '../../src/shared/errors';

describe('strict date-time and date formats', () => {
  it.each([
    '2030-01-01T00:00:00Z',
    '2030-01-01T00:00:00.123Z',
    '2030-01-01T00:00:00.123456789+05:30',
    '2028-02-29T23:59:59-23:59',
    '2000-02-29T00:00:00Z',
    '2030-12-31t23:59:59z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
  ])('accepts %s', (v) => expect(isStrictDateTime(v)).toBe(true));

  it.each([
    '2030-13-01T00:00:00Z',
    '2030-00-01T00:00:00Z',
    '2030-02-30T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2030-04-31T00:00:00Z',
    '2030-01-01T00:00:00+25:00',
    '2030-01-01T00:00:00+24:00',
    '2030-01-01T00:00:00+01:60',
    '2030-12-31T23:59:60Z',
    '2030-01-01T24:00:00Z',
    '2030-01-01T23:60:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:30:00+01:00',
    '9999-12-31T23:30:00-01:00',
    '2030-01-01T00:00:00',
    '2030-01-01 00:00:00Z',
    '2030-01-01T00:00Z',
    '2030-01-01T00:00:00+0100',
    '+02030-01-01T00:00:00Z',
    '2030-1-1T00:00:00Z',
    '',
  ])('refuses %j', (v) => expect(isStrictDateTime(v)).toBe(false));

  it('are the formats GraphQL and the tools check the contract with too', () => {
    const discount = (valid_from: string) => issuesAgainst('/components/schemas/DiscountCreate', { code: 'ABC', kind: 'fixed', value: '1', valid_from });
    expect(discount('2030-02-28T00:00:00Z')).toEqual([]);
    expect(discount('2030-02-30T00:00:00Z').map((i) => i.field)).toContain('valid_from');
  });

  it('dates: real calendar days of years 0001-9999', () => {
    expect(['2028-02-29', '0001-01-01', '9999-12-31'].every(isStrictDate)).toBe(true);
    expect(['2030-02-29', '2030-13-01', '0000-01-01', '2030-01-32', '2030-1-01'].some(isStrictDate)).toBe(false);
  });
});

describe('NUL in values', () => {
  it('names every string and key that holds U+0000, nested in objects and arrays', () => {
    const issues = nulIssues({ a: 'ok', b: ['x', 'y\u0000'], c: { 'k\u0000': 'v', d: { e: '\u0000' } } }, 'body');
    expect(issues.map((i) => i.field)).toEqual(['body.b[1]', 'body.c.k\\u0000', 'body.c.d.e']);
  });

  it('walks 100,000 levels of nesting without recursion, and stops at 100 issues', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nulIssues(deep, 'body')).toHaveLength(1);
    expect(nulIssues(Array.from({ length: 500 }, () => '\u0000'), 'body')).toHaveLength(100);
  });
});

describe('query normalization', () => {
  it('folds name[] and name[n] into the repeated name, indexed ones in index order', () => {
    expect(normalizeQuery({ 'brand[]': ['A', 'B'] }).query).toEqual({ brand: ['A', 'B'] });
    expect(normalizeQuery({ 'brand[1]': 'B', 'brand[0]': 'A' }).query).toEqual({ brand: ['A', 'B'] });
    expect(normalizeQuery({ brand: 'A', 'brand[]': 'B', 'brand[0]': 'C' }).query).toEqual({ brand: ['A', 'C', 'B'] });
    expect(normalizeQuery({ brand: ['A', 'B'], search: 'x' })).toEqual({ query: { brand: ['A', 'B'], search: 'x' }, issues: [] });
  });

  it('keeps a __proto__ key as a key (an unknown parameter for the validator), never a prototype', () => {
    const { query } = normalizeQuery(JSON.parse('{"__proto__":"x","page":"1"}') as Record<string, unknown>);
    expect(Object.keys(query)).toEqual(['__proto__', 'page']);
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
  });

  it('refuses any other bracket form, naming it', () => {
    expect(normalizeQuery({ 'brand[x]': 'A', 'brand[0][y]': 'B', 'a]': 'C' }).issues.map((i) => i.field)).toEqual(['query.brand[x]', 'query.brand[0][y]', 'query.a]']);
  });
});

describe('integer parameters', () => {
  const productParams = integerParametersOf('/api/product/', 'get');

  it('are read from the contract, path and query, through $refs', () => {
    expect(integerParametersOf('/api/product/{id}/', 'get')).toEqual([{ in: 'path', name: 'id' }]);
    expect(productParams.map((p) => p.name).sort()).toEqual(['page', 'page_size', 'vendor']);
  });

  it('accept plain decimal integers only', () => {
    const check = (query: Record<string, unknown>) => () => checkIntegerParameters(productParams, { path: {}, query });
    expect(check({ page: '2', page_size: '100', vendor: '-1' })).not.toThrow();
    for (const bad of ['0x10', '0b1', '0o7', ' 1', '1 ', '+1', '1e0', '01', '1.0', '', '١']) {
      let thrown: unknown;
      try {
        check({ page_size: bad })();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).details).toEqual({ errors: [{ field: 'query.page_size', message: expect.any(String) }] });
    }
  });
});

describe('hosts', () => {
  it.each([
    ['localhost:8000', 'localhost'],
    ['Shop.Example.COM', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['[::1]:8000', '[::1]'],
    ['127.0.0.1', '127.0.0.1'],
  ])('reads the host name of %j', (host, name) => expect(hostnameOf(host)).toBe(name));

  it.each([[undefined], [''], ['evil.example/x'], ['a@b'], ['evil.example:80:80'], ['-evil.example'], ['evil..example'], ['.example.com'], ['exa mple.com']])('refuses %j', (host) =>
    expect(hostnameOf(host)).toBeNull(),
  );

  it('matches exact entries and the subdomains of .domain entries', () => {
    const allowed = ['localhost', '.example.com'];
    expect(isAllowedHost('localhost', allowed)).toBe(true);
    expect(isAllowedHost('example.com', allowed)).toBe(true);
    expect(isAllowedHost('a.b.example.com', allowed)).toBe(true);
    expect(isAllowedHost('evilexample.com', allowed)).toBe(false);
    expect(isAllowedHost('localhost.evil', allowed)).toBe(false);
  });
});
