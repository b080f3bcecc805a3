import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import type { EntityName } from '@mikro-orm/core';
import type { KeyValues } from '../shared/cursor';
import type { Listing, PagePicker, PageRequest, Slice } from '../shared/paging';

/**
 * Keyset pagination, the one implementation every list uses (entity lists through `findListing`,
 * the SQL read models through `keyset`): `(sort, id) > (?, ?)` from the cursor's row, index
 * friendly and as fast on page 1,000 as on page 1; numbered pages by offset.
 */
export interface Keyset {
  /** The scan direction: the ordering's, flipped for a backward (`before`) page. */
  dir: 'asc' | 'desc';
  /** Rows to fetch: the page size, plus one on cursor pages (it tells whether there is another page). */
  limit: number;
  /** Rows to skip (numbered pages; 0 on cursor pages). */
  offset: number;
  /** The scan ran backward: the rows come back in reverse order and must be flipped. */
  reversed: boolean;
  /** The cursor's key values (sort value, id), undefined without a cursor. */
  values: KeyValues | undefined;
  /**
   * The condition that starts the page after (or before) the cursor's row, comparing `(sort, id)`
   * with its key values bound through `bind` (`cast` on the sort value; ids are integers); undefined
   * without a cursor.
   */
  boundary(sort: string, id: string, cast?: string): string | undefined;
}

/** The keyset of one page of an ordering, binding values through `bind` (which answers the placeholder). */
export function keyset(page: PageRequest, descending: boolean, bind: (value: unknown) => string): Keyset {
  const backward = page.kind === 'cursor' && page.before !== undefined;
  const from = page.kind === 'cursor' ? (page.before ?? page.after) : undefined;
  const desc = descending !== backward;
  return {
    dir: desc ? 'desc' : 'asc',
    limit: page.size + (page.kind === 'cursor' ? 1 : 0),
    offset: page.kind === 'page' ? (page.page - 1) * page.size : 0,
    reversed: backward,
    values: from,
    boundary(sort, id, cast = '') {
      if (!from) return undefined;
      return `(${sort}, ${id}) ${desc ? '<' : '>'} (${bind(from[0])}${cast}, ${bind(from[1])}::int)`;
    },
  };
}

/**
 * Turns the rows of a keyset query (fetched with `size + 1` rows, in scan order) into a page with
 * the keys of its neighbours. `reversed`: the scan ran backward (a `before` cursor) and the rows
 * must be flipped. For numbered pages, `count` (if known) bounds `next`.
 */
export function toSlice<T>(rows: T[], request: PageRequest, key: (row: T) => KeyValues, reversed = false, count?: number): Slice<T> {
  if (request.kind === 'page') {
    const last = count === undefined ? undefined : Math.max(1, Math.ceil(count / request.size));
    const hasNext = last === undefined ? rows.length === request.size : request.page < last;
    const slice: Slice<T> = {
      items: rows,
      next: hasNext ? request.page + 1 : null,
      previous: request.page > 1 ? (last === undefined ? request.page - 1 : Math.min(request.page - 1, last)) : null,
    };
    if (count !== undefined) slice.count = count;
    return slice;
  }
  const more = rows.length > request.size;
  const items = rows.slice(0, request.size);
  if (reversed) items.reverse();
  const first = items[0];
  const last = items[items.length - 1];
  if (reversed) return { items, next: last ? key(last) : null, previous: more && first ? key(first) : null };
  return { items, next: more && last ? key(last) : null, previous: request.after && first ? key(first) : null };
}

/** How a list of entities is ordered: by one NOT NULL property, then the id. */
export interface KeysetOrder<T> {
  property: keyof T & string;
  column: string;
  descending: boolean;
  /** The property's value as a cursor key (dates as ISO strings). */
  key(entity: T): string | number;
}

/** A page of entities by keyset or, when a page number was asked for, by offset with an exact count. */
export async function findSlice<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  order: KeysetOrder<T>,
  request: PageRequest,
): Promise<Slice<T>> {
  const keyOf = (e: T): KeyValues => [order.key(e), e.id];
  const ks = keyset(request, order.descending, () => '?');
  const orderBy = { [order.property]: ks.dir, id: ks.dir } as never;
  if (request.kind === 'page') {
    const [items, count] = await em.findAndCount(entity, where, { orderBy, limit: ks.limit, offset: ks.offset });
    return toSlice(items, request, keyOf, false, count);
  }
  const conditions: FilterQuery<T>[] = [where];
  if (ks.values) {
    // Qualified by the root alias: the filter may join other tables.
    const boundary = (alias: string) => ks.boundary(`${alias}.${order.column}`, `${alias}.id`) ?? '';
    conditions.push({ [raw(boundary, ks.values)]: [] } as FilterQuery<T>);
  }
  const rows = await em.find(entity, { $and: conditions } as FilterQuery<T>, { orderBy, limit: ks.limit });
  return toSlice(rows, request, keyOf, ks.reversed);
}

/** `findSlice` for the page `pick` reads in `scope`: a list's whole answer. */
export async function findListing<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  order: KeysetOrder<T>,
  scope: string,
  pick: PagePicker,
): Promise<Listing<T>> {
  const { page } = pick([scope]);
  return { slice: await findSlice(em, entity, where, order, page), scope, keyOf: (e) => [order.key(e), e.id] };
}
