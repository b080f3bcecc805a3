import type { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import type { KeyValues } from '../../shared/cursor';
import type { DiscoveryFilters, ProductRow } from './discovery.sql';

/**
 * The search ranking cache: per process, a search's ranked candidates (ids and ranks, never rows),
 * so that the next pages and the next identical searches do not rank every match again (ranking
 * "wireless" at 1,000,000 products sorts 23,720 matches: ~120 ms a search).
 *
 * - **What is cached.** For a search's static filters (text, full text or trigram, category,
 *   brands, vendor), the top `limit` (1,000) active matches by `rank desc, id desc`, with the rank the
 *   SQL computes (`real`, as node-postgres parses it: cursor keys match the SQL path's bit for bit),
 *   and the search version they were read at. Price and stock filters are applied to the rows,
 *   which are always read fresh: an order placed changes neither the entry nor its validity.
 * - **Fresh at once.** `catalog_search_version` (Migration20261205131700) is bumped as part of the
 *   commit of every change that can change a search's matches or ranks. Each page reads it in
 *   the snapshot of its rows: the same (epoch, version) as the entry's means the candidates are
 *   exactly what the SQL would rank now; a newer version recomputes the entry; an older one (a
 *   replica behind the server that computed the entry) answers that page by SQL and keeps the entry.
 *   The epoch (a uuid drawn when the row is created) tells counters apart that are not one history:
 *   after the migration is run down and up again, or a backup restored, the version may climb back
 *   to an entry's while meaning other data. Another epoch always recomputes.
 * - **Two statements at most.** A page reads the rows of the next `2 × (size + 1)` candidates (one
 *   statement: the common case); when the price and stock filters left it short, the rows of all the
 *   remaining candidates, limited to the rows still wanted (a second one, which stops as soon as
 *   they passed). Past the candidates kept, a page is answered by SQL (`undefined`: the caller's path).
 * - **Bounded.** An LRU by size (CATALOG_SEARCH_CACHE_SIZE, in 12-byte units: a candidate each, plus
 *   the key and the entry's fixed cost) and entries; concurrent misses of one search share one
 *   computation.
 */

/** The candidates kept per search: a walk past them is answered by SQL. */
export const SEARCH_CANDIDATES = 1000;

/** The epoch and version of `catalog_search_version`, read in the snapshot of a statement. */
export interface SearchVersion {
  /** Drawn when the counter's row was created: versions of different epochs are not comparable. */
  epoch: string;
  version: number;
}

/** The version and the top matches of a search, read in one snapshot. */
export interface CandidateRows extends SearchVersion {
  ids: ArrayLike<number>;
  ranks: ArrayLike<number>;
}

/** Rows of some candidates, read fresh in one snapshot with the version; `ord` is the 1-based position in the ids asked for. */
export interface RankedRows extends SearchVersion {
  rows: (ProductRow & { ord: number })[];
}

/** Where the candidates and rows come from (`DiscoveryRepository`: discovery.sql.ts's statements). */
export interface RankingSource {
  candidates(em: EntityManager, filters: DiscoveryFilters, limit: number): Promise<CandidateRows>;
  rows(em: EntityManager, filters: DiscoveryFilters, ids: Int32Array, limit: number): Promise<RankedRows>;
}

export interface SearchRankingOptions {
  /** The cache's size in 12-byte units: a candidate each, plus each entry's key and fixed cost (CATALOG_SEARCH_CACHE_SIZE). */
  maxCandidates: number;
  /** Searches kept at most. */
  maxEntries?: number;
  /** Candidates kept per search (tests set a small one). */
  limit?: number;
}

interface Entry extends SearchVersion {
  ids: Int32Array;
  /** Float64: the exact numbers node-postgres gives for the `real` ranks. */
  ranks: Float64Array;
  /** Every match is in `ids` (fewer came back than were asked for). */
  complete: boolean;
}

/** The outcome of one walk over an entry: rows, an (epoch, version) that differs from the entry's, or "ask SQL". */
type Walk = { rows: ProductRow[] } | { read: SearchVersion } | undefined;

/** An entry's fixed cost in the size budget, in 12-byte units (the object, its two typed arrays, the LRU's bookkeeping). */
export const ENTRY_OVERHEAD = 16;

/** Recomputations after a newer version before a page gives up and asks SQL (writes arriving faster than searches). */
const MAX_REFRESHES = 2;

export class SearchRanking {
  /**
   * Hits, misses (computations), pages answered by SQL (any reason), entries found stale, and the
   * pages of those answered by SQL after a statement of the cache failed (`DiscoveryRepository.page`).
   */
  readonly stats = { hits: 0, misses: 0, fallbacks: 0, stale: 0, errors: 0 };
  private readonly entries: LRUCache<string, Entry>;
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly limit: number;

  constructor(
    private readonly source: RankingSource,
    options: SearchRankingOptions,
  ) {
    this.limit = options.limit ?? SEARCH_CANDIDATES;
    if (!Number.isSafeInteger(this.limit) || this.limit < 1) throw new Error(`candidate limit must be a positive integer, not ${this.limit}`);
    this.entries = new LRUCache<string, Entry>({
      max: options.maxEntries ?? 10_000,
      maxSize: Math.max(1, options.maxCandidates),
      // The key is UTF-16 (2 bytes a character): 6 characters a unit.
      sizeCalculation: (e, key) => e.ids.length + ENTRY_OVERHEAD + Math.ceil(key.length / 6),
    });
  }

  /**
   * One forward cursor page of a public search by relevance: `size + 1` rows when there is a next
   * page, like the SQL (`after`: the cursor's key values, rank then id); undefined when this page
   * must be answered by SQL.
   */
  async page(em: EntityManager, filters: DiscoveryFilters, size: number, after?: KeyValues): Promise<ProductRow[] | undefined> {
    const key = keyOf(filters);
    let entry = await this.entry(em, key, filters);
    for (let refresh = 0; ; refresh++) {
      const walked = await this.walk(em, filters, entry, size, after);
      if (walked === undefined) break;
      if ('rows' in walked) return walked.rows;
      // Older in the same epoch: this read ran on a replica behind the server the entry was read on; SQL there.
      if ((walked.read.epoch === entry.epoch && walked.read.version < entry.version) || refresh >= MAX_REFRESHES) break;
      this.stats.stale++;
      entry = await this.entry(em, key, filters, walked.read);
    }
    this.stats.fallbacks++;
    return undefined;
  }

  /** The cached entry, or a computation of it (shared by concurrent callers); with `atLeast`, one of that epoch at that version or newer. */
  private async entry(em: EntityManager, key: string, filters: DiscoveryFilters, atLeast?: SearchVersion): Promise<Entry> {
    const fits = (e: Entry | undefined): e is Entry => e !== undefined && (atLeast === undefined || (e.epoch === atLeast.epoch && e.version >= atLeast.version));
    const cached = this.entries.get(key);
    if (fits(cached)) {
      this.stats.hits++;
      return cached;
    }
    const running = this.pending.get(key);
    if (running) {
      const shared = await running;
      if (fits(shared)) return shared;
      // That one started before the version asked for was committed; one started since sees it.
      const later = this.pending.get(key);
      if (later) return later;
      const stored = this.entries.get(key);
      if (fits(stored)) return stored;
    }
    this.stats.misses++;
    const computed = this.compute(em, key, filters).finally(() => {
      if (this.pending.get(key) === computed) this.pending.delete(key);
    });
    this.pending.set(key, computed);
    return computed;
  }

  private async compute(em: EntityManager, key: string, filters: DiscoveryFilters): Promise<Entry> {
    const found = await this.source.candidates(em, filters, this.limit + 1);
    const complete = found.ids.length <= this.limit;
    const n = Math.min(found.ids.length, this.limit);
    const entry: Entry = { epoch: found.epoch, version: found.version, ids: Int32Array.from({ length: n }, (_, i) => found.ids[i]!), ranks: Float64Array.from({ length: n }, (_, i) => found.ranks[i]!), complete };
    // A lagging replica's answer never replaces a newer entry of its epoch; another epoch's always does.
    const current = this.entries.peek(key);
    if (!current || current.epoch !== entry.epoch || current.version <= entry.version) this.entries.set(key, entry);
    return entry;
  }

  /**
   * The page's rows from `entry`'s candidates after the cursor: `size + 1` of them that passed the
   * fresh filters, in two statements at most. Both must read the entry's (epoch, version), so the
   * ranking is one snapshot's; a price or stock change committed between them shows in the second's
   * rows only, as it would in the next page.
   */
  private async walk(em: EntityManager, filters: DiscoveryFilters, entry: Entry, size: number, after?: KeyValues): Promise<Walk> {
    const want = size + 1;
    const start = after ? firstAfter(entry, Number(after[0]), Number(after[1])) : 0;
    // Past the candidates of a search that has more: only SQL knows the rest.
    if (start >= entry.ids.length && !entry.complete) return undefined;
    const rows: ProductRow[] = [];
    const read = async (from: number, to: number): Promise<SearchVersion | undefined> => {
      // Also with no id left: the statement still reads the version (has anything matched since?).
      const got = await this.source.rows(em, filters, entry.ids.subarray(from, to), want - rows.length);
      if (got.epoch !== entry.epoch || got.version !== entry.version) return got;
      for (const { ord, ...row } of got.rows) rows.push({ ...row, rank: entry.ranks[from + ord - 1]! });
      return undefined;
    };
    // Price and stock filters drop candidates: twice the rows wanted covers most pages. Without them
    // no candidate drops out at the entry's version (deactivating a product bumps it).
    const fresh = filters.inStock !== undefined || filters.minPrice !== undefined || filters.maxPrice !== undefined;
    const end = Math.min(start + (fresh ? 2 * want : want), entry.ids.length);
    let changed = await read(start, end);
    if (changed) return { read: changed };
    if (rows.length < want && end < entry.ids.length) {
      // Short: every remaining candidate in one statement, whose limit stops the probes as soon as
      // the rows wanted passed (Limit over a nested loop on the ids in order).
      changed = await read(end, entry.ids.length);
      if (changed) return { read: changed };
    }
    if (rows.length >= want) return { rows };
    return entry.complete ? { rows } : undefined;
  }
}

/** The cache key: the filters the candidates depend on (price and stock are applied to fresh rows). */
function keyOf(f: DiscoveryFilters): string {
  return JSON.stringify([f.search, f.fuzzy === true, f.category ?? null, f.brands ?? null, f.vendorId ?? null]);
}

/** The index of the first candidate after `(rank, id)` in `rank desc, id desc` order (binary search). */
function firstAfter(entry: Entry, rank: number, id: number): number {
  let lo = 0;
  let hi = entry.ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = entry.ranks[mid]!;
    const after = r < rank || (r === rank && entry.ids[mid]! < id);
    if (after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
