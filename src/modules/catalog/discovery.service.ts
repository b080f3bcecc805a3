import type { EntityManager } from '@mikro-orm/postgresql';
import type { components } from '../../../generated/openapi';
import { toSlice } from '../../db/keyset';
import type { Listing, PagePicker, PageRequest } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { TtlCache } from '../../shared/ttl-cache';
import { mayManage, visibilityFor } from './access';
import { CatalogErrors } from './catalog.errors';
import type { DiscoveryRepository, FacetRows, ProductDetail } from './discovery.repository';
import { type DiscoveryFilters, PRICE_BUCKETS, type ProductOrdering, type ProductRow, type ProductValueFilters, sortKeyOf } from './discovery.sql';

type Facets = components['schemas']['ProductFacets'];
type CategoryRow = { id: number; parent_id: number | null; name: string; slug: string };

/** What narrows a product list or its facets, whichever protocol asked. */
export interface ProductFilter extends ProductValueFilters {
  /** A category id (digits) or slug; its subcategories' products match too. */
  category?: string;
}

export interface ProductListInput extends ProductFilter {
  /** `active` (the default) for everyone; admins and vendors may ask for `inactive` or `all`. */
  status?: 'active' | 'inactive' | 'all';
  /** Default: `relevance` with a search, else newest first. */
  ordering?: ProductOrdering;
}

/** A storefront page: the listing and, when asked for, how many products match. */
export interface ProductListing extends Listing<ProductRow> {
  count?: number;
  countIsEstimate?: boolean;
}

/**
 * Product discovery, the catalog's read model: list pages with filters, search and counts, facets,
 * and the product detail. REST and GraphQL both read the catalog through here.
 */
export class DiscoveryService {
  private readonly facetCache = new TtlCache<Facets>(30_000);

  constructor(private readonly products: DiscoveryRepository) {}

  /**
   * One page of products: the ordering (as asked, else relevance for a search, else newest first),
   * what the caller may see, and the cursor scope. A cursor is valid only for the ordering and the
   * search mode (full text or trigram) it was issued for: a search whose first page finds nothing
   * by full text is retried by trigram similarity on names (typos), and its later pages stay there.
   */
  async discover(em: EntityManager, viewer: Principal | null, input: ProductListInput, pick: PagePicker, count?: 'exact' | 'estimate' | 'none'): Promise<ProductListing> {
    const searching = Boolean(input.search?.trim());
    if (input.ordering === 'relevance' && !searching) throw CatalogErrors.relevanceNeedsSearch();
    const ordering: ProductOrdering = input.ordering ?? (searching ? 'relevance' : '-created_at');
    const filters = this.filters(input, visibilityFor(viewer, input.status));
    const scope = `products:${ordering}`;
    const fuzzyScope = `${scope}:fuzzy`;
    const { page, scope: cursorScope } = pick([scope, fuzzyScope]);
    if (cursorScope !== null && filters.search !== undefined) filters.fuzzy = cursorScope === fuzzyScope;

    const countMode = count ?? (page.kind === 'page' ? 'estimate' : 'none');
    const run = (f: DiscoveryFilters) =>
      Promise.all([this.products.page(em, f, ordering, page), countMode === 'none' ? undefined : this.products.count(em, f, countMode)]);
    let fuzzy = filters.fuzzy ?? false;
    let [rows, counted] = await run({ ...filters, fuzzy });
    if (filters.search !== undefined && filters.fuzzy === undefined && isFirst(page) && rows.rows.length === 0) {
      fuzzy = true;
      [rows, counted] = await run({ ...filters, fuzzy });
    }
    const keyOf = (r: ProductRow) => [sortKeyOf(r, ordering), r.id];
    const listing: ProductListing = { slice: toSlice(rows.rows, page, keyOf, rows.reversed), scope: fuzzy ? fuzzyScope : scope, keyOf };
    if (counted !== undefined) {
      listing.count = counted;
      listing.countIsEstimate = countMode === 'estimate';
    }
    return listing;
  }

  /**
   * Every product matching the filter that `viewer` manages (admins: all of them, vendors: their
   * own), active or not, in id order, a page of `pageSize` rows at a time: the export's scan. Keyset
   * pages, so it never holds more than a page; a search that finds nothing by full text matches
   * names by trigram similarity, as the list does.
   */
  async *scan(em: EntityManager, viewer: Principal, filter: ProductFilter, pageSize: number): AsyncGenerator<ProductRow[]> {
    const vendorOnly = viewer.role !== 'admin';
    if (vendorOnly && filter.vendorId !== undefined && filter.vendorId !== viewer.id) return;
    const visibility: DiscoveryFilters['visibility'] = vendorOnly ? { kind: 'vendor', vendorId: viewer.id, status: 'all' } : { kind: 'admin', status: 'all' };
    const filters = this.filters(vendorOnly ? { ...filter, vendorId: viewer.id } : filter, visibility);
    let after: [number, number] | undefined;
    for (;;) {
      const page: PageRequest = { kind: 'cursor', size: pageSize, after };
      let { rows } = await this.products.page(em, filters, 'id', page);
      if (!after && !rows.length && filters.search !== undefined && !filters.fuzzy) {
        filters.fuzzy = true;
        ({ rows } = await this.products.page(em, filters, 'id', page));
      }
      const slice = rows.slice(0, pageSize);
      if (slice.length) yield slice;
      if (rows.length <= pageSize) return;
      const last = slice[slice.length - 1]!;
      after = [last.id, last.id];
    }
  }

  /** Disjunctive facet counts over listed products, cached briefly (they summarise the whole catalog). */
  facets(em: EntityManager, filter: ProductFilter): Promise<Facets> {
    const filters = this.filters(filter, { kind: 'public' });
    return this.facetCache.getOrCompute(JSON.stringify(filters), async () => {
      const facets = await this.computeFacets(em, filters);
      // Like the list: a search that finds nothing by full text counts trigram matches on names.
      if (filters.search !== undefined && !filters.fuzzy && facets.total === 0) return this.computeFacets(em, { ...filters, fuzzy: true });
      return facets;
    });
  }

  /** A product as the caller may see it: inactive products and variants only for their vendor and admins. */
  async get(em: EntityManager, viewer: Principal | null, id: number): Promise<ProductDetail> {
    return this.visible(viewer, await this.products.detail(em, id));
  }

  /** A product by slug, as `get` shows it. */
  async getBySlug(em: EntityManager, viewer: Principal | null, slug: string): Promise<ProductDetail> {
    return this.visible(viewer, await this.products.detailBySlug(em, slug));
  }

  /** Several products as `get` shows each of them, in one statement; those the caller may not see are left out. */
  async getMany(em: EntityManager, viewer: Principal | null, ids: readonly number[]): Promise<Map<number, ProductDetail>> {
    const found = new Map<number, ProductDetail>();
    for (const row of await this.products.details(em, ids)) {
      const visible = this.asSeenBy(viewer, row);
      if (visible) found.set(row.id, visible);
    }
    return found;
  }

  private visible(viewer: Principal | null, row: ProductDetail | undefined): ProductDetail {
    const visible = row && this.asSeenBy(viewer, row);
    if (!visible) throw CatalogErrors.productNotFound();
    return visible;
  }

  /** Inactive products and variants only for their vendor and admins; undefined when the product is hidden. */
  private asSeenBy(viewer: Principal | null, row: ProductDetail): ProductDetail | undefined {
    const privileged = mayManage(viewer, row.vendor_id);
    if (!row.is_active && !privileged) return undefined;
    if (!privileged) row.variants = row.variants.filter((v) => v.isActive);
    return row;
  }

  private filters(filter: ProductFilter, visibility: DiscoveryFilters['visibility']): DiscoveryFilters {
    const category = filter.category === undefined ? undefined : categoryRef(filter.category);
    return {
      visibility,
      category,
      minPrice: filter.minPrice,
      maxPrice: filter.maxPrice,
      inStock: filter.inStock,
      brands: filter.brands,
      vendorId: filter.vendorId,
      search: filter.search?.trim() || undefined,
    };
  }

  private async computeFacets(em: EntityManager, filters: DiscoveryFilters): Promise<Facets> {
    const { rows, tree } = await this.products.facets(em, filters);
    return {
      total: Number(rows.total[0]?.count ?? 0),
      brands: rows.brands.map((b) => ({ value: b.brand, count: Number(b.count) })),
      categories: rollUp(tree, rows.categories, filters.category),
      availability: {
        in_stock: Number(rows.availability.find((a) => a.in_stock)?.count ?? 0),
        out_of_stock: Number(rows.availability.find((a) => !a.in_stock)?.count ?? 0),
      },
      price: PRICE_BUCKETS.map((min, i) => ({
        min,
        max: PRICE_BUCKETS[i + 1] ?? null,
        count: Number(rows.price.find((p) => Number(p.bucket) === i + 1)?.count ?? 0),
      })),
    };
  }
}

const isFirst = (page: PageRequest) => (page.kind === 'page' ? page.page === 1 : page.after === undefined && page.before === undefined);

/** The largest id a row can have (ids are int4). */
const MAX_ID = 2_147_483_647;

/**
 * A category filter as the read model takes it: digits are an id, anything else a slug. Digits
 * beyond any id (`2147483648`, twenty nines) name no category, like any other missing id: 0 (ids
 * start at 1) rather than a number PostgreSQL's int would refuse.
 */
function categoryRef(value: string): number | string {
  if (!/^\d+$/.test(value)) return value;
  const id = Number(value);
  return id <= MAX_ID ? id : 0;
}

/** Counts per child of the filtered category (or per top-level category), each over its whole subtree. */
function rollUp(tree: CategoryRow[], counts: FacetRows['categories'], selected: number | string | undefined): Facets['categories'] {
  const byId = new Map(tree.map((c) => [c.id, c]));
  const root = selected === undefined ? null : tree.find((c) => (typeof selected === 'number' ? c.id === selected : c.slug === selected));
  if (selected !== undefined && !root) return [];
  const parentId = root ? root.id : null;
  const children = tree.filter((c) => c.parent_id === parentId);
  const totals = new Map(children.map((c) => [c.id, 0]));
  for (const { category_id, count } of counts) {
    // Climb to the child of the selected category this category belongs to, if any.
    let node = byId.get(category_id);
    for (let depth = 0; node && node.parent_id !== parentId && depth < 1000; depth++) node = node.parent_id === null ? undefined : byId.get(node.parent_id);
    const total = node && totals.get(node.id);
    if (node && total !== undefined) totals.set(node.id, total + Number(count));
  }
  return children.map((c) => ({ id: c.id, name: c.name, slug: c.slug, count: totals.get(c.id) ?? 0 })).filter((c) => c.count > 0);
}
