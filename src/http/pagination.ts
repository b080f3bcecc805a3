import { CursorCodec, type KeyValues } from '../shared/cursor';
import { DomainError } from '../shared/errors';
import type { Listing, PagePicker, PageRequest, Slice } from '../shared/paging';

export interface PageQuery {
  cursor?: string;
  page?: number;
  page_size?: number;
}

export interface PageEnvelope<R> {
  count?: number;
  next: string | null;
  previous: string | null;
  results: R[];
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Relay-style connection arguments (GraphQL): `first`/`after` pages forward, `last`/`before` backward. */
export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Reads the pagination parameters every list shares and builds the `next`/`previous` links. */
export class Pager {
  constructor(private readonly codec: CursorCodec) {}

  /**
   * The page a REST list asks for (`cursor`, `page`, `page_size`), for the service to read in the
   * scopes its list accepts: a cursor from another scope is a 400 INVALID_CURSOR.
   */
  request(query: PageQuery): PagePicker {
    return (scopes) => this.parse(query, scopes);
  }

  /**
   * The page a GraphQL connection asks for (`first`/`after`, `last`/`before`). Cursors are the same
   * signed tokens as REST's, one per row (`cursorOf`), valid only for the scope they were issued for.
   * Bad arguments are the REST list's 400s.
   */
  connection(args: ConnectionArgs): PagePicker {
    return (scopes) => this.parseConnection(args, scopes);
  }

  private parseConnection(args: ConnectionArgs, scopes: readonly string[]): { page: PageRequest; scope: string | null } {
    const backward = args.last != null || args.before != null;
    if (backward && (args.first != null || args.after != null)) {
      throw DomainError.invalid('first', 'Page forward (first, after) or backward (last, before), not both.', 'INVALID_PAGINATION');
    }
    if (args.last != null && args.before == null) throw DomainError.invalid('before', 'last needs before (a cursor to page back from).', 'INVALID_PAGINATION');
    const size = (backward ? args.last : args.first) ?? DEFAULT_PAGE_SIZE;
    const sizeField = backward ? 'last' : 'first';
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw DomainError.invalid(sizeField, `${sizeField} must be between 1 and ${MAX_PAGE_SIZE}.`);
    }
    const token = backward ? args.before : args.after;
    if (token == null) return { page: { kind: 'cursor', size }, scope: null };
    const decoded = this.codec.decodeIn(token, scopes);
    if (decoded) {
      return { page: backward ? { kind: 'cursor', size, before: decoded.values } : { kind: 'cursor', size, after: decoded.values }, scope: decoded.scope };
    }
    throw DomainError.invalid(
      backward ? 'before' : 'after',
      'The cursor is invalid, was altered, or belongs to another ordering; use the cursors as given.',
      'INVALID_CURSOR',
    );
  }

  /** The opaque cursor of one row (its sort key values, ending with its id) in `scope`. */
  cursorOf(scope: string, values: KeyValues): string {
    return this.codec.encode({ scope, values, backward: false });
  }

  /** The page asked for and, with a cursor, the scope it was issued for (one of `scopes`). */
  private parse(query: PageQuery, scopes: readonly string[]): { page: PageRequest; scope: string | null } {
    const size = query.page_size ?? DEFAULT_PAGE_SIZE;
    if (query.cursor !== undefined && query.page !== undefined) {
      throw DomainError.invalid('query.page', 'Use either cursor or page, not both.', 'INVALID_PAGINATION');
    }
    if (query.page !== undefined) return { page: { kind: 'page', size, page: query.page }, scope: null };
    if (query.cursor === undefined) return { page: { kind: 'cursor', size }, scope: null };
    const decoded = this.codec.decodeIn(query.cursor, scopes);
    if (!decoded) {
      throw DomainError.invalid(
        'query.cursor',
        'The cursor is invalid, was altered, or belongs to another ordering; follow the next/previous links as given.',
        'INVALID_CURSOR',
      );
    }
    const page: PageRequest = decoded.backward ? { kind: 'cursor', size, before: decoded.values } : { kind: 'cursor', size, after: decoded.values };
    return { page, scope: decoded.scope };
  }

  /** The list envelope of a service's listing; links keep every other query parameter of the current URL. */
  envelope<T, R>(currentUrl: string, listing: Pick<Listing<T>, 'slice' | 'scope'>, map: (item: T) => R): PageEnvelope<R> {
    const { slice, scope } = listing;
    const link = (target: Slice<T>['next'], backward: boolean): string | null => {
      if (target === null) return null;
      const url = new URL(currentUrl);
      url.searchParams.delete('cursor');
      url.searchParams.delete('page');
      if (typeof target === 'number') url.searchParams.set('page', String(target));
      else url.searchParams.set('cursor', this.codec.encode({ scope, values: target, backward }));
      // URLSearchParams writes spaces as "+", a reserved character in query values: use %20.
      url.search = url.search.replace(/\+/g, '%20');
      return url.toString();
    };
    const body: PageEnvelope<R> = { next: link(slice.next, false), previous: link(slice.previous, true), results: slice.items.map(map) };
    if (slice.count !== undefined) body.count = slice.count;
    return body;
  }
}
