import { type EntityManager, type FilterQuery, raw } from '@mikro-orm/postgresql';
import type { EntityName } from '@mikro-orm/core';
import type { KeyValues } from '../shared/cursor';
import type { PageRequest, Slice } from '../shared/paging';

export interface KeysetOrder<T> {
  /** Entity property to sort by (its column must be NOT NULL); the id always breaks ties. */
  property: keyof T & string;
  column: string;
  descending: boolean;
  /** The property's value as a cursor key (dates as ISO strings). */
  key(entity: T): string | number;
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

/**
 * A page of entities by keyset (`(sort, id) > (?, ?)`, index friendly, as fast on page 1,000 as on
 * page 1) or, when a page number was asked for, by offset with an exact count.
 */
export async function findSlice<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  order: KeysetOrder<T>,
  request: PageRequest,
): Promise<Slice<T>> {
  const dir = (desc: boolean) => (desc ? 'desc' : 'asc');
  const keyOf = (e: T): KeyValues => [order.key(e), e.id];
  if (request.kind === 'page') {
    const orderBy = { [order.property]: dir(order.descending), id: dir(order.descending) } as never;
    const [items, count] = await em.findAndCount(entity, where, {
      orderBy,
      limit: request.size,
      offset: (request.page - 1) * request.size,
    });
    return toSlice(items, request, keyOf, false, count);
  }
  const backward = request.before !== undefined;
  const boundary = request.before ?? request.after;
  // Walking backward reverses the order, fetches, and flips the rows back.
  const scanDesc = order.descending !== backward;
  const conditions: FilterQuery<T>[] = [where];
  if (boundary) {
    const op = scanDesc ? '<' : '>';
    // Qualified by the root alias: the filter may join other tables.
    conditions.push({ [raw((a) => `(${a}.${order.column}, ${a}.id) ${op} (?, ?)`, boundary)]: [] } as FilterQuery<T>);
  }
  const orderBy = { [order.property]: dir(scanDesc), id: dir(scanDesc) } as never;
  const rows = await em.find(entity, { $and: conditions } as FilterQuery<T>, { orderBy, limit: request.size + 1 });
  return toSlice(rows, request, keyOf, backward);
}
