import { keyset, toSlice } from '../../src/db/keyset';
import type { PageRequest } from '../../src/shared/paging';

/** A keyset whose bound values land in `params`, as `?` placeholders. */
function build(page: PageRequest, descending: boolean) {
  const params: unknown[] = [];
  const ks = keyset(page, descending, (value) => (params.push(value), '?'));
  return { ks, params, boundary: ks.boundary('p.price', 'p.id', '::numeric') };
}

describe('keyset', () => {
  it('reads a first page in the ordering’s direction, one row more than the page to see whether another follows', () => {
    const { ks, boundary, params } = build({ kind: 'cursor', size: 20 }, true);
    expect(ks).toMatchObject({ dir: 'desc', limit: 21, offset: 0, reversed: false, values: undefined });
    expect(boundary).toBeUndefined();
    expect(params).toEqual([]);
  });

  it('starts after the cursor’s row, comparing (sort, id) with its values', () => {
    const asc = build({ kind: 'cursor', size: 10, after: ['9.99', 42] }, false);
    expect(asc.ks).toMatchObject({ dir: 'asc', limit: 11, reversed: false });
    expect(asc.boundary).toBe('(p.price, p.id) > (?::numeric, ?::int)');
    expect(asc.params).toEqual(['9.99', 42]);
    expect(build({ kind: 'cursor', size: 10, after: ['9.99', 42] }, true).boundary).toBe('(p.price, p.id) < (?::numeric, ?::int)');
  });

  it('walks backward from a `before` cursor: the scan turns around and the rows come back reversed', () => {
    const { ks, boundary } = build({ kind: 'cursor', size: 10, before: ['9.99', 42] }, false);
    expect(ks).toMatchObject({ dir: 'desc', reversed: true });
    expect(boundary).toBe('(p.price, p.id) < (?::numeric, ?::int)');
  });

  it('reads numbered pages by offset, exactly a page of rows', () => {
    const { ks, boundary } = build({ kind: 'page', size: 25, page: 3 }, false);
    expect(ks).toMatchObject({ dir: 'asc', limit: 25, offset: 50, reversed: false });
    expect(boundary).toBeUndefined();
  });
});

describe('toSlice', () => {
  const key = (n: number) => [n * 10, n];

  it('keeps a page of a cursor scan and points at the next one when the extra row came back', () => {
    expect(toSlice([1, 2, 3], { kind: 'cursor', size: 2 }, key)).toEqual({ items: [1, 2], next: [20, 2], previous: null });
    expect(toSlice([3, 4], { kind: 'cursor', size: 2, after: [20, 2] }, key)).toEqual({ items: [3, 4], next: null, previous: [30, 3] });
  });

  it('flips a backward scan and points both ways from it', () => {
    expect(toSlice([4, 3, 2], { kind: 'cursor', size: 2, before: [50, 5] }, key, true)).toEqual({ items: [3, 4], next: [40, 4], previous: [30, 3] });
  });

  it('bounds numbered pages by the count when it is known', () => {
    expect(toSlice([5, 6], { kind: 'page', size: 2, page: 3 }, key, false, 6)).toEqual({ items: [5, 6], next: null, previous: 2, count: 6 });
    expect(toSlice([5, 6], { kind: 'page', size: 2, page: 3 }, key)).toEqual({ items: [5, 6], next: 4, previous: 2 });
  });
});
