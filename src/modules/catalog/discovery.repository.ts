import type { EntityManager } from '@mikro-orm/postgresql';
import { executePrepared } from '../../db/prepared';
import type { PageRequest } from '../../shared/paging';
import type { TaxClass } from '../../shared/tax-classes';
import type { Crumb } from './categories.repository';
import {
  type DiscoveryFilters,
  facetQueries,
  type ProductRow,
  productCountQuery,
  productListQuery,
  rankedRowsQuery,
  type ScanOrdering,
  searchCandidatesQuery,
} from './discovery.sql';
import { type CandidateRows, type RankedRows, type RankingSource, SearchRanking, type SearchRankingOptions, type SearchVersion } from './search-ranking';

/** A variant as the product detail carries it (the same fields as the entity). */
export interface VariantView {
  id: number;
  product: { id: number };
  sku: string;
  name: string;
  attributes: Record<string, string>;
  price: string | number;
  stock: number;
  weightGrams: number;
  isActive: boolean;
  createdAt: Date | string;
  updatedAt: Date | string;
}

/** A product with its variants and breadcrumbs, read in one statement. */
export interface ProductDetail extends Omit<ProductRow, 'image' | 'rank'> {
  description: string;
  sku: string;
  images: string[];
  tax_class: TaxClass;
  updated_at: string | Date;
  variants: VariantView[];
  breadcrumbs: Crumb[];
}

export interface FacetRows {
  total: { count: number }[];
  brands: { brand: string; count: number }[];
  categories: { category_id: number; count: number }[];
  availability: { in_stock: boolean; count: number }[];
  price: { bucket: number; count: number }[];
}

/**
 * The product detail in one statement: the product, its variants as JSON, and its breadcrumbs from
 * the category's materialised path (categories.path, kept by the database).
 */
const DETAIL_SQL = `
  select p.id, p.name, p.slug, p.description, p.brand, p.sku, p.category_id, p.vendor_id, p.price, p.max_price,
         p.stock, p.in_stock, p.rating_avg, p.rating_count, p.images, p.tax_class, p.is_active, p.created_at, p.updated_at,
         coalesce((
           select json_agg(json_build_object(
                    'id', v.id, 'product', json_build_object('id', v.product_id), 'sku', v.sku, 'name', v.name,
                    'attributes', v.attributes, 'price', v.price::text, 'stock', v.stock, 'weightGrams', v.weight_grams, 'isActive', v.is_active,
                    'createdAt', v.created_at, 'updatedAt', v.updated_at) order by v.id)
             from product_variants v where v.product_id = p.id), '[]') as variants,
         coalesce((
           select json_agg(json_build_object('id', c.id, 'name', c.name, 'slug', c.slug) order by array_position(leaf.path, c.id))
             from categories leaf join categories c on c.id = any(leaf.path) where leaf.id = p.category_id), '[]') as breadcrumbs
    from products p`;
const DETAIL_ONE = `${DETAIL_SQL} where p.id = ?`;
const DETAIL_BY_SLUG = `${DETAIL_SQL} where p.slug = ?`;
const DETAIL_MANY = `${DETAIL_SQL} where p.id = any(?::int[])`;

/**
 * The discovery read model's queries (the SQL is built by `discovery.sql.ts`). Statements whose
 * plan cannot depend on their values run as named prepared statements (src/db/prepared.ts).
 */
export class DiscoveryRepository implements RankingSource {
  /** The search ranking cache (src/modules/catalog/search-ranking.ts); absent when turned off. */
  readonly ranking?: SearchRanking;

  constructor(
    private readonly preparedStatements = true,
    /** CATALOG_SEARCH_CACHE_SIZE and the like; absent or 0 candidates: every search is ranked by SQL. */
    ranking?: SearchRankingOptions,
  ) {
    if (ranking && ranking.maxCandidates > 0) this.ranking = new SearchRanking(this, ranking);
  }

  /**
   * One page of list rows, in scan order (`reversed`: flip them). A public search's forward cursor
   * pages by relevance come from the ranking cache when it can answer them exactly.
   */
  async page(em: EntityManager, filters: DiscoveryFilters, ordering: ScanOrdering, page: PageRequest): Promise<{ rows: ProductRow[]; reversed: boolean }> {
    if (
      this.ranking &&
      ordering === 'relevance' &&
      filters.search !== undefined &&
      filters.visibility.kind === 'public' &&
      page.kind === 'cursor' &&
      page.before === undefined &&
      // A transaction may see its own uncommitted writes (and version): nothing to share.
      !em.getTransactionContext()
    ) {
      // The cache is an optimisation: a failure or timeout of its statements (the ranking's or the
      // rows') answers the page by the SQL below, whose own errors are the request's.
      const rows = await this.ranking.page(em, filters, page.size, page.after).catch((err: unknown) => {
        const stats = this.ranking!.stats;
        // The first failure of a process is logged (later ones are only counted): a cache that
        // keeps failing (a schema behind the code...) must not go unnoticed behind the fallback.
        if (stats.errors++ === 0) {
          process.emitWarning(`the search ranking cache failed; searches it cannot answer are answered by SQL (${err instanceof Error ? err.message : String(err)})`, { code: 'SEARCH_RANKING_CACHE' });
        }
        stats.fallbacks++;
        return undefined;
      });
      if (rows) return { rows, reversed: false };
    }
    const built = productListQuery(filters, ordering, page);
    const rows = await executePrepared<ProductRow>(em, built.sql, built.params, this.preparedStatements && built.stablePlan === true);
    return { rows, reversed: built.reversed };
  }

  /**
   * A search's top matches with the search version, in one snapshot (the ranking cache's misses).
   * Not prepared: like the search's list query, its plan depends on the words.
   */
  async candidates(em: EntityManager, filters: DiscoveryFilters, limit: number): Promise<CandidateRows> {
    const q = searchCandidatesQuery(filters, limit);
    const rows = await executePrepared<{ epoch: string; version: string; id: number | null; rank: number | null }>(em, q.sql, q.params, false);
    const found = rows[0]?.id === null ? [] : rows;
    return { ...searchVersion(rows[0]), ids: found.map((r) => r.id!), ranks: found.map((r) => r.rank!) };
  }

  /** Fresh list rows of cached candidates with the search version, in one snapshot (see `rankedRowsQuery`). */
  async rows(em: EntityManager, filters: DiscoveryFilters, ids: Int32Array, limit: number): Promise<RankedRows> {
    const q = rankedRowsQuery(filters, ids, limit);
    const rows = await executePrepared<ProductRow & { epoch: string; version: string; ord: string | null }>(em, q.sql, q.params, this.preparedStatements && q.stablePlan === true);
    const found = rows[0]?.ord === null ? [] : rows;
    return { ...searchVersion(rows[0]), rows: found.map(({ epoch: _epoch, version: _version, ord, ...row }) => ({ ...row, ord: Number(ord) })) };
  }

  /** `exact`: a count of the matches; `estimate`: the planner's estimate (EXPLAIN, instant). */
  async count(em: EntityManager, filters: DiscoveryFilters, mode: 'exact' | 'estimate'): Promise<number> {
    const q = productCountQuery(filters, mode);
    const [row] = await em.execute<Record<string, unknown>[]>(q.sql, q.params);
    if (mode === 'exact') return Number(row?.count);
    const plans = row?.['QUERY PLAN'] as { Plan: { 'Plan Rows': number } }[] | undefined;
    return Math.round(plans?.[0]?.Plan['Plan Rows'] ?? 0);
  }

  /** The facet groups' counts (in parallel) and the active category tree they roll up into. */
  async facets(em: EntityManager, filters: DiscoveryFilters): Promise<{ rows: FacetRows; tree: { id: number; parent_id: number | null; name: string; slug: string }[] }> {
    const q = facetQueries(filters);
    const run = <T>(b: { sql: string; params: unknown[] }) => em.execute<T[]>(b.sql, b.params);
    const [total, brands, categories, availability, price, tree] = await Promise.all([
      run<{ count: number }>(q.total),
      run<{ brand: string; count: number }>(q.brands),
      run<{ category_id: number; count: number }>(q.categories),
      run<{ in_stock: boolean; count: number }>(q.availability),
      run<{ bucket: number; count: number }>(q.price),
      em.execute<{ id: number; parent_id: number | null; name: string; slug: string }[]>('select id, parent_id, name, slug from categories where is_active order by name, id'),
    ]);
    return { rows: { total, brands, categories, availability, price }, tree };
  }

  /** A product's detail (any status). A primary-key lookup: one plan for every id, so it is prepared. */
  async detail(em: EntityManager, id: number): Promise<ProductDetail | undefined> {
    const [row] = await executePrepared<ProductDetail>(em, DETAIL_ONE, [id], this.preparedStatements);
    return row;
  }

  async detailBySlug(em: EntityManager, slug: string): Promise<ProductDetail | undefined> {
    const [row] = await executePrepared<ProductDetail>(em, DETAIL_BY_SLUG, [slug], this.preparedStatements);
    return row;
  }

  /** Several products' details in one statement. */
  details(em: EntityManager, ids: readonly number[]): Promise<ProductDetail[]> {
    return ids.length ? em.execute<ProductDetail[]>(DETAIL_MANY, [`{${ids.join(',')}}`]) : Promise.resolve([]);
  }

  /** A product's detail right after a write, read on the writer's connection (it sees the triggers' totals). */
  async detailAfterWrite(em: EntityManager, id: number): Promise<ProductDetail> {
    const [row] = await em.execute<ProductDetail[]>(DETAIL_ONE, [id]);
    if (!row) throw new Error(`product ${id} vanished after its write`);
    return row;
  }
}

/** `catalog_search_version`'s epoch and version (a bigint, as text); its one row is the migration's. */
function searchVersion(row: { epoch: string; version: string } | undefined): SearchVersion {
  if (!row || row.version === null || row.epoch === null) throw new Error('catalog_search_version has no row');
  return { epoch: row.epoch, version: Number(row.version) };
}
