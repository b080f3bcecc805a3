import type { KeyValues } from './cursor';

/** What a list operation was asked for, after the query string was read and the cursor checked. */
export type PageRequest =
  | { kind: 'cursor'; size: number; after?: KeyValues; before?: KeyValues }
  | { kind: 'page'; size: number; page: number };

/** One page of results with where the neighbouring pages start. */
export interface Slice<T> {
  items: T[];
  /** Cursor mode: key values to continue after (next) or before (previous). Page mode: page numbers. */
  next: KeyValues | number | null;
  previous: KeyValues | number | null;
  count?: number;
}

/**
 * Reads the page the caller asked for, given the cursor scopes the list accepts: a cursor is only
 * valid in the scope (ordering, search mode) it was issued for. Answers the page and, with a
 * cursor, the scope it belongs to. The adapters build one from a REST query or a GraphQL connection.
 */
export type PagePicker = (scopes: readonly string[]) => { page: PageRequest; scope: string | null };

/**
 * A page of a list as a service answers it: the items, the scope its cursors belong to, and each
 * item's sort key (its cursor values). REST turns it into `{next, previous, results}`, GraphQL into
 * a connection; neither knows how the list is ordered.
 */
export interface Listing<T> {
  slice: Slice<T>;
  scope: string;
  keyOf(item: T): KeyValues;
}
