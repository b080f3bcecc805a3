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
