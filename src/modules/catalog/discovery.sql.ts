import { keyset } from '../../db/keyset';
import type { PageRequest } from '../../shared/paging';

/**
 * SQL for product discovery, built as text with `?` placeholders (knex style) so the same query
 * runs through MikroORM and, in the benchmark, through bare `pg` (see `src/db/prepared.ts`).
 *
 * Every plan this produces is meant to read an index in the requested order and stop after a page:
 * - no category filter: one ordered scan of a partial index (`products_active_<order>_idx`);
 * - a category filter: the subtree is read from `categories.path`, then one ordered, limited probe
 *   per category (`products_active_category_<order>_idx`) and a sort of at most
 *   (categories × page) rows: as fast on cursor page 1,000 as on page 1, whatever the subtree's
 *   size (numbered pages probe `offset + size` rows per category);
 * - search: full-text matches (GIN on search_vector) ranked by ts_rank_cd; when full text finds
 *   nothing (typically a typo), the caller retries with `fuzzy`: trigram matches on the name (GIN
 *   pg_trgm) ranked by word similarity. Ranking only ever sorts the matches.
 */

export type ProductOrdering = 'price' | '-price' | 'created_at' | '-created_at' | 'name' | '-name' | '-rating' | 'relevance';
/** The orderings of the lists, and `id`: the export's scan (every product once, in a stable order). */
export type ScanOrdering = ProductOrdering | 'id';

export type Visibility =
  | { kind: 'public' }
  /** Admins: every product, or only the inactive ones. */
  | { kind: 'admin'; status: 'all' | 'inactive' }
  /** Vendors: public products plus their own inactive ones, or only their own inactive ones. */
  | { kind: 'vendor'; vendorId: number; status: 'all' | 'inactive' };

/** What narrows a product list besides its category, whichever protocol asked. */
export interface ProductValueFilters {
  /** Decimal strings. */
  minPrice?: string;
  maxPrice?: string;
  inStock?: boolean;
  brands?: string[];
  vendorId?: number;
  /** Full-text search, with a typo-tolerant fallback. */
  search?: string;
}

export interface DiscoveryFilters extends ProductValueFilters {
  visibility: Visibility;
  /** A category id or slug; products of all its descendants match too. */
  category?: number | string;
  /** With `search`: match names by trigram similarity (typo tolerant) instead of full text. */
  fuzzy?: boolean;
}

/** The lower bounds of the price facet's buckets (the last is open-ended). */
export const PRICE_BUCKETS = ['0.00', '10.00', '25.00', '50.00', '100.00', '250.00', '500.00', '1000.00'];

export interface BuiltQuery {
  sql: string;
  params: unknown[];
  /** The rows come back in reverse order (a backward page) and must be flipped. */
  reversed: boolean;
  /**
   * The plan does not depend on the parameters' values, so a prepared statement's generic plan is as
   * good as a custom one (see `executePrepared`): a cursor page of a category subtree (one index
   * probe per category, whatever the values) or of the whole catalog without value filters. Brand,
   * vendor and price-range filters without a category, and search, pick their index by the values.
   */
  stablePlan?: boolean;
}

interface OrderSpec {
  /** Expression over the `p` alias (or the computed `rank`). */
  column: string;
  descending: boolean;
}

const ORDERS: Record<ScanOrdering, OrderSpec> = {
  price: { column: 'price', descending: false },
  '-price': { column: 'price', descending: true },
  created_at: { column: 'created_at', descending: false },
  '-created_at': { column: 'created_at', descending: true },
  name: { column: 'name', descending: false },
  '-name': { column: 'name', descending: true },
  '-rating': { column: 'rating_avg', descending: true },
  relevance: { column: 'rank', descending: true },
  id: { column: 'id', descending: false },
};

/** The columns a product list shows (no description, no search vector). */
export const LIST_COLUMNS = [
  'id', 'name', 'slug', 'brand', 'category_id', 'vendor_id', 'price', 'max_price', 'stock', 'in_stock',
  'rating_avg', 'rating_count', 'is_active', 'created_at',
];

export interface ProductRow {
  id: number;
  name: string;
  slug: string;
  brand: string;
  category_id: number;
  vendor_id: number;
  price: string;
  max_price: string;
  stock: number;
  in_stock: boolean;
  rating_avg: string;
  rating_count: number;
  is_active: boolean;
  created_at: Date | string;
  image: string | null;
  rank?: number;
}

export function sortKeyOf(row: ProductRow, ordering: ProductOrdering): string | number {
  const column = ORDERS[ordering].column as keyof ProductRow;
  const value = row[column];
  if (value instanceof Date) return value.toISOString();
  return value as string | number;
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return '?';
  }
}

/**
 * The category and its descendants, from the materialized `categories.path` (ids from the root).
 * Given an id, `path @> array[id]` is estimated from the column's element statistics (43 rows for a
 * department, 1 for a leaf), so the plan above is costed for the real subtree; a slug goes through a
 * sub-select, which the planner costs with its default containment estimate (a couple of rows).
 * (A recursive CTE was estimated at ~600 rows whatever the subtree: see Migration20261126013141.)
 */
const SUBTREE = (category: number | string, ps: Params) =>
  `with subtree(id) as (
  select id from categories where path @> ${typeof category === 'number' ? `array[${ps.add(category)}::int]` : `array[(select id from categories where slug = ${ps.add(category)})]`}
)`;

/** The WHERE conditions on alias `p`, without the category (callers place it where the plan wants it). */
function conditions(f: DiscoveryFilters, ps: Params): string[] {
  const where: string[] = [];
  const v = f.visibility;
  if (v.kind === 'public') where.push('p.is_active');
  else if (v.kind === 'admin') {
    if (v.status === 'inactive') where.push('not p.is_active');
  } else if (v.status === 'inactive') {
    where.push(`not p.is_active and p.vendor_id = ${ps.add(v.vendorId)}`);
  } else {
    where.push(`(p.is_active or p.vendor_id = ${ps.add(v.vendorId)})`);
  }
  if (f.minPrice !== undefined) where.push(`p.price >= ${ps.add(f.minPrice)}::numeric`);
  if (f.maxPrice !== undefined) where.push(`p.price <= ${ps.add(f.maxPrice)}::numeric`);
  if (f.inStock !== undefined) where.push(f.inStock ? 'p.in_stock' : 'not p.in_stock');
  if (f.brands?.length) {
    where.push(f.brands.length === 1 ? `p.brand = ${ps.add(f.brands[0])}` : `p.brand = any(${ps.add(pgArray(f.brands))}::text[])`);
  }
  if (f.vendorId !== undefined) where.push(`p.vendor_id = ${ps.add(f.vendorId)}`);
  if (f.search !== undefined) where.push(f.fuzzy ? `${ps.add(f.search)} <% p.name` : 'p.search_vector @@ q.query');
  return where;
}

function selectList(): string {
  return [...LIST_COLUMNS.map((c) => `p.${c}`), 'p.images[1] as image'].join(', ');
}

/**
 * The query for one page of products. Cursor pages fetch `size + 1` rows (the extra row tells
 * whether there is a next page).
 */
export function productListQuery(f: DiscoveryFilters, ordering: ScanOrdering, page: PageRequest): BuiltQuery {
  if (ordering === 'relevance' && f.search === undefined) throw new Error('relevance ordering needs a search');
  const ps = new Params();
  const order = ORDERS[ordering];
  // Page sizes are integers the contract bounds; written into the text (not bound) so that a
  // prepared statement's generic plan knows them.
  if (!Number.isSafeInteger(page.size) || page.size < 1) throw new Error(`page size must be a positive integer, not ${page.size}`);
  const ks = keyset(page, order.descending, (value) => ps.add(value));
  const search = f.search !== undefined;
  const sortExpr = (alias: string) => (order.column === 'rank' ? 'rank' : `${alias}.${order.column}`);
  const orderBy = (alias: string) => `order by ${sortExpr(alias)} ${ks.dir}, ${alias}.id ${ks.dir}`;

  const head = f.category !== undefined ? SUBTREE(f.category, ps) + '\n' : '';
  // Text order is parameter order: each use of the rank expression adds its own parameter.
  const rank = () => (f.fuzzy ? `word_similarity(${ps.add(f.search)}, p.name)` : 'ts_rank_cd(p.search_vector, q.query)');
  const rankSelect = search ? `, ${rank()}::real as rank` : '';
  const from = searchFrom(f, ps);
  const where = conditions(f, ps);
  const after = (alias: string): string[] => {
    if (!ks.values) return [];
    const cast = order.column === 'created_at' ? '::timestamptz' : order.column === 'rank' ? '::real' : order.column === 'name' ? '' : order.column === 'id' ? '::int' : '::numeric';
    return [ks.boundary(order.column === 'rank' ? `${rank()}::real` : `${alias}.${order.column}`, `${alias}.id`, cast)!];
  };

  let sql: string;
  // The id scan (exports: admins' and vendors' products, active or not) has no per-category index
  // to probe: it walks the primary key and filters the subtree.
  const lateral = f.category !== undefined && !search && ordering !== 'id';
  if (lateral) {
    // One ordered, limited probe per category of the subtree, merged. A numbered page needs the
    // first `offset + size` rows of each category to be sure of the page's rows.
    const inner = [`p.category_id = subtree.id`, ...where, ...after('p')];
    sql =
      `${head}select p.* from subtree cross join lateral (\n` +
      `  select ${selectList()} from products p where ${inner.join(' and ')} ${orderBy('p')} limit ${page.kind === 'page' ? ps.add(ks.offset + ks.limit) : ks.limit}\n` +
      `) p ${orderBy('p')} limit ${page.kind === 'page' ? ps.add(ks.limit) : ks.limit}`;
    if (page.kind === 'page') sql += ` offset ${ps.add(ks.offset)}`;
  } else {
    const all = [...where, ...after('p')];
    if (f.category !== undefined) all.unshift('p.category_id in (select id from subtree)');
    sql = `${head}select ${selectList()}${rankSelect} from ${from}${all.length ? ` where ${all.join(' and ')}` : ''} ${orderBy('p')} limit ${page.kind === 'page' ? ps.add(ks.limit) : ks.limit}`;
    if (page.kind === 'page') sql += ` offset ${ps.add(ks.offset)}`;
  }
  const valueFilters = f.brands?.length || f.vendorId !== undefined || f.minPrice !== undefined || f.maxPrice !== undefined;
  const stablePlan = page.kind === 'cursor' && !search && (lateral || !valueFilters);
  return { sql, params: ps.values, reversed: ks.reversed, stablePlan };
}

/**
 * A search's ranked candidates for the ranking cache (src/modules/catalog/search-ranking.ts): in one
 * snapshot, the search version and its epoch (`catalog_search_version`, bumped by triggers on every
 * change that can change a search's matches or ranks) and the top `limit` matches `(id, rank)` by `rank desc, id desc`,
 * with the rank expression and the text conditions of `productListQuery` and only the filters the
 * cache keys on (category, brands, vendor; active products). Price and stock are left to
 * `rankedRowsQuery`, which reads them fresh. One row with a null id when nothing matches (the
 * version still comes back).
 */
export function searchCandidatesQuery(f: DiscoveryFilters, limit: number): BuiltQuery {
  if (f.search === undefined || f.visibility.kind !== 'public') throw new Error('search candidates need a public search');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`candidate limit must be a positive integer, not ${limit}`);
  const ps = new Params();
  const fixed: DiscoveryFilters = { visibility: f.visibility, category: f.category, brands: f.brands, vendorId: f.vendorId, search: f.search, fuzzy: f.fuzzy };
  const head = fixed.category !== undefined ? SUBTREE(fixed.category, ps) + '\n' : '';
  // The same text as productListQuery's: rank, then from, then conditions (parameter order).
  const rank = fixed.fuzzy ? `word_similarity(${ps.add(fixed.search)}, p.name)` : 'ts_rank_cd(p.search_vector, q.query)';
  const from = searchFrom(fixed, ps);
  const where = conditions(fixed, ps);
  if (fixed.category !== undefined) where.unshift('p.category_id in (select id from subtree)');
  const sql =
    `${head}select v.epoch, v.version, c.id, c.rank from (select epoch, version from catalog_search_version) v left join lateral (\n` +
    `  select p.id, ${rank}::real as rank from ${from} where ${where.join(' and ')} order by rank desc, p.id desc limit ${limit}\n` +
    `) c on true order by c.rank desc, c.id desc`;
  return { sql, params: ps.values, reversed: false };
}

/**
 * The list rows of some of a search's cached candidates (`ids`, in rank order), read fresh in one
 * snapshot with the search version and its epoch: the first `limit` of them that are still active and pass the
 * filters the candidates leave out (price range, stock), each with its position in `ids` (`ord`,
 * from 1). One row with null columns when none passes. The plan is a primary-key probe per id
 * whatever the values, so it is a prepared statement's (`stablePlan`).
 */
export function rankedRowsQuery(f: DiscoveryFilters, ids: ArrayLike<number>, limit: number): BuiltQuery {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`row limit must be a positive integer, not ${limit}`);
  const ps = new Params();
  const idList = ps.add(`{${Array.prototype.join.call(ids, ',')}}`);
  const where = ['p.id = u.id', ...conditions({ visibility: { kind: 'public' }, minPrice: f.minPrice, maxPrice: f.maxPrice, inStock: f.inStock }, ps)];
  const sql =
    `select v.epoch, v.version, r.* from (select epoch, version from catalog_search_version) v left join lateral (\n` +
    `  select ${selectList()}, u.ord from unnest(${idList}::int[]) with ordinality u(id, ord) join products p on ${where.join(' and ')} order by u.ord limit ${ps.add(limit)}\n` +
    `) r on true order by r.ord`;
  return { sql, params: ps.values, reversed: false, stablePlan: true };
}

/** `from ... where ...` with every filter, for counts and facets. */
function matching(f: DiscoveryFilters, ps: Params): { head: string; body: string } {
  const head = f.category !== undefined ? SUBTREE(f.category, ps) + '\n' : '';
  const from = searchFrom(f, ps);
  const where = conditions(f, ps);
  if (f.category !== undefined) where.unshift('p.category_id in (select id from subtree)');
  return { head, body: `from ${from}${where.length ? ` where ${where.join(' and ')}` : ''}` };
}

/** Full-text search joins its parsed query once, as `q`. */
function searchFrom(f: DiscoveryFilters, ps: Params): string {
  return f.search !== undefined && !f.fuzzy ? `products p cross join websearch_to_tsquery('english', ${ps.add(f.search)}) q(query)` : 'products p';
}

/** `count=exact`: a count of the matches; `count=estimate`: the planner's estimate (EXPLAIN, instant). */
export function productCountQuery(f: DiscoveryFilters, mode: 'exact' | 'estimate' = 'exact'): BuiltQuery {
  const ps = new Params();
  const { head, body } = matching(f, ps);
  const sql = mode === 'exact' ? `${head}select count(*)::int as count ${body}` : `explain (format json) ${head}select 1 ${body}`;
  return { sql, params: ps.values, reversed: false };
}

/**
 * Facet counts over active products. Each group drops its own filter (disjunctive facets): brand
 * counts ignore `brands`, category counts ignore `category` (they are rolled up to the selected
 * category's children by the caller), availability ignores `inStock`, price buckets ignore the range.
 */
export function facetQueries(filters: DiscoveryFilters): Record<'total' | 'brands' | 'categories' | 'availability' | 'price', BuiltQuery> {
  const f: DiscoveryFilters = { ...filters, visibility: { kind: 'public' } };
  const build = (without: Partial<DiscoveryFilters>, select: string, tail: string): BuiltQuery => {
    const ps = new Params();
    const { head, body } = matching({ ...f, ...without }, ps);
    return { sql: `${head}select ${select} ${body} ${tail}`, params: ps.values, reversed: false };
  };
  return {
    total: build({}, 'count(*)::int as count', ''),
    brands: build({ brands: undefined }, 'p.brand, count(*)::int as count', "and p.brand <> '' group by p.brand order by count desc, p.brand limit 50"),
    categories: build({ category: undefined }, 'p.category_id, count(*)::int as count', 'group by p.category_id'),
    availability: build({ inStock: undefined }, 'p.in_stock, count(*)::int as count', 'group by p.in_stock'),
    price: build(
      { minPrice: undefined, maxPrice: undefined },
      `width_bucket(p.price, array[${PRICE_BUCKETS.slice(1).join(', ')}]::numeric[]) + 1 as bucket, count(*)::int as count`,
      'group by bucket',
    ),
  };
}

/** A PostgreSQL array literal ('{"a","b"}'): bound as one text parameter by knex and by node-postgres alike. */
function pgArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

