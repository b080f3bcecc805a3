import { CursorCodec } from '../../src/shared/cursor';
import { Pager } from '../../src/http/pagination';
import { DomainError } from '../../src/shared/errors';

const codec = new CursorCodec(Buffer.from('k'.repeat(32)));

describe('CursorCodec', () => {
  it('round-trips a position within its scope', () => {
    const cursor = codec.encode({ scope: 'users:id', values: ['2026-01-01T00:00:00.000Z', 42], backward: true });
    expect(codec.decode(cursor, 'users:id')).toEqual({ scope: 'users:id', values: ['2026-01-01T00:00:00.000Z', 42], backward: true });
  });

  it('refuses a cursor from another scope, another key, or altered in any byte', () => {
    const cursor = codec.encode({ scope: 'users:id', values: [1, 1], backward: false });
    expect(codec.decode(cursor, 'users:-id')).toBeUndefined();
    expect(new CursorCodec(Buffer.from('x'.repeat(32))).decode(cursor, 'users:id')).toBeUndefined();
    for (let i = 0; i < cursor.length; i++) {
      const altered = cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1);
      if (altered !== cursor) expect(codec.decode(altered, 'users:id')).toBeUndefined();
    }
  });

  it.each(['', '.', 'a.b.c', 'abc', '%%%.%%%'])('refuses the malformed cursor %p', (c) => {
    expect(codec.decode(c, 'users:id')).toBeUndefined();
  });
});

describe('Pager', () => {
  const pager = new Pager(codec);

  it('defaults to the first cursor page of 20', () => {
    expect(pager.request({})(['s']).page).toEqual({ kind: 'cursor', size: 20 });
  });

  it('reads numbered pages', () => {
    expect(pager.request({ page: 3, page_size: 5 })(['s']).page).toEqual({ kind: 'page', size: 5, page: 3 });
  });

  it('refuses cursor with page, and a bad cursor, as 400 domain errors', () => {
    const bad = (q: object) => {
      try {
        pager.request(q)(['s']);
      } catch (e) {
        return e as DomainError;
      }
      throw new Error('expected a refusal');
    };
    expect(bad({ cursor: 'x', page: 1 })).toMatchObject({ kind: 'invalid', code: 'INVALID_PAGINATION' });
    expect(bad({ cursor: 'x' })).toMatchObject({ kind: 'invalid', code: 'INVALID_CURSOR' });
  });

  it('builds links that keep the other query parameters', () => {
    const body = pager.envelope('http://h/api/users/?role=vendor&page_size=2&cursor=old', { scope: 's', slice: { items: [1, 2], next: [2, 2], previous: null } }, (n) => n * 10);
    expect(body.results).toEqual([10, 20]);
    expect(body.previous).toBeNull();
    const next = new URL(body.next!);
    expect(next.searchParams.get('role')).toBe('vendor');
    expect(next.searchParams.get('page_size')).toBe('2');
    expect(codec.decode(next.searchParams.get('cursor')!, 's')).toEqual({ scope: 's', values: [2, 2], backward: false });
  });
});
