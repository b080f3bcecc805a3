import { LockMode, ref, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { components, operations } from '../../../generated/openapi';
import { constraintOf } from '../../db/errors';
import { deleteOrDeactivate } from '../../db/history';
import { findSlice, toSlice } from '../../db/keyset';
import { executePrepared } from '../../db/prepared';
import type { Principal } from '../../http/principal';
import type { KeyValues } from '../../shared/cursor';
import { DomainError } from '../../shared/errors';
import { normalizeMoney } from '../../shared/money';
import type { PageRequest, Slice } from '../../shared/paging';
import { slugify, suffixed } from '../../shared/slug';
import { TtlCache } from '../../shared/ttl-cache';
import { User } from '../accounts/user.entity';
import { CatalogErrors } from './catalog.errors';
import type { CategoriesService, Crumb } from './categories.service';
import { Category } from './category.entity';
import {
  type DiscoveryFilters,
  PRICE_BUCKETS,
  facetQueries,
  type ProductOrdering,
  type ProductRow,
  productCountQuery,
  productListQuery,
  sortKeyOf,
  type Visibility,
} from './discovery.sql';
import { ProductVariant } from './product-variant.entity';
import { Product } from './product.entity';

type ProductCreate = components['schemas']['ProductCreate'];
type ProductUpdate = components['schemas']['ProductUpdate'];
type VariantFields = components['schemas']['VariantFields'];
type VariantUpdate = components['schemas']['VariantUpdate'];
type Facets = components['schemas']['ProductFacets'];
export type ProductListQuery = NonNullable<operations['listProducts']['parameters']['query']>;
export type FacetQuery = NonNullable<operations['getProductFacets']['parameters']['query']>;
export type VariantListQuery = NonNullable<operations['listVariants']['parameters']['query']>;

export interface ProductList {
  slice: Slice<ProductRow>;
  count?: number;
  countIsEstimate?: boolean;
  /** The search fell back to trigram matching on names (full text found nothing). */
  fuzzy: boolean;
}

/** A storefront page: the list, with the ordering it used and the scope its cursors belong to. */
export interface DiscoveryPage extends ProductList {
  ordering: ProductOrdering;
  scope: string;
}

/** Reads the page a caller asked for, given the cursor scopes the list accepts (REST query or GraphQL connection). */
export type PagePicker = (scopes: string[]) => { page: PageRequest; scope: string | null };

/** A variant as the product detail carries it (the same fields as the entity). */
export interface VariantView {
  id: number;
  product: { id: number };
  sku: string;
  name: string;
  attributes: Record<string, string>;
  price: string | number;
  stock: number;
  isActive: boolean;
  createdAt: Date | string;
  updatedAt: Date | string;
}

/** A product with its variants (those the viewer may see) and breadcrumbs, read in one statement. */
export interface ProductDetail extends Omit<ProductRow, 'image' | 'rank'> {
  description: string;
  sku: string;
  images: string[];
  updated_at: string | Date;
  variants: VariantView[];
  breadcrumbs: Crumb[];
}

/**
 * The product detail in one statement: the product, its variants as JSON, and its breadcrumbs from
 * the category's materialised path (categories.path, kept by the database).
 */
const DETAIL_SQL = `
  select p.id, p.name, p.slug, p.description, p.brand, p.sku, p.category_id, p.vendor_id, p.price, p.max_price,
         p.stock, p.in_stock, p.rating_avg, p.rating_count, p.images, p.is_active, p.created_at, p.updated_at,
         coalesce((
           select json_agg(json_build_object(
                    'id', v.id, 'product', json_build_object('id', v.product_id), 'sku', v.sku, 'name', v.name,
                    'attributes', v.attributes, 'price', v.price::text, 'stock', v.stock, 'isActive', v.is_active,
                    'createdAt', v.created_at, 'updatedAt', v.updated_at) order by v.id)
             from product_variants v where v.product_id = p.id), '[]') as variants,
         coalesce((
           select json_agg(json_build_object('id', c.id, 'name', c.name, 'slug', c.slug) order by array_position(leaf.path, c.id))
             from categories leaf join categories c on c.id = any(leaf.path) where leaf.id = p.category_id), '[]') as breadcrumbs
    from products p`;
const DETAIL_ONE = `${DETAIL_SQL} where p.id = ?`;
const DETAIL_BY_SLUG = `${DETAIL_SQL} where p.slug = ?`;
const DETAIL_MANY = `${DETAIL_SQL} where p.id = any(?::int[])`;

/** Price buckets of the facets (the upper bound is exclusive; the last bucket is open). */

/** Products and variants: discovery, detail, and the vendor's and admin's writes. */
export class ProductsService {
  private readonly facetCache = new TtlCache<Facets>(30_000);

  constructor(
    private readonly categories: CategoriesService,
    private readonly options: { preparedStatements: boolean } = { preparedStatements: true },
  ) {}

  /** What the caller may list: the public catalog, or also inactive products (admins; vendors: their own). */
  visibility(viewer: Principal | null, status: 'active' | 'inactive' | 'all' = 'active'): Visibility {
    if (status === 'active') return { kind: 'public' };
    if (viewer?.role === 'admin') return { kind: 'admin', status };
    if (viewer?.role === 'vendor') return { kind: 'vendor', vendorId: viewer.id, status };
    throw CatalogErrors.statusForbidden();
  }

  filters(query: FacetQuery, visibility: Visibility): DiscoveryFilters {
    const category = query.category === undefined ? undefined : /^\d+$/.test(query.category) ? Number(query.category) : query.category;
    return {
      visibility,
      category,
      minPrice: query.min_price,
      maxPrice: query.max_price,
      inStock: query.in_stock,
      brands: query.brand,
      vendorId: query.vendor,
      search: query.search?.trim() || undefined,
    };
  }

  /** The ordering a list uses: as asked, else relevance for a search, else newest first. */
  ordering(query: ProductListQuery): ProductOrdering {
    if (query.ordering === 'relevance' && !query.search) {
      throw DomainError.invalid('query.ordering', 'ordering=relevance needs a search.', 'VALIDATION_ERROR');
    }
    return query.ordering ?? (query.search ? 'relevance' : '-created_at');
  }

  /**
   * `GET /api/product/` and GraphQL `products`: the ordering (as asked, else relevance for a search,
   * else newest first), what the caller may see, and the cursor scope. A cursor is valid only for
   * the ordering and the search mode (full text or trigram) it was issued for, so a later page of
   * a search that fell back to trigrams stays there.
   */
  async discover(
    em: EntityManager,
    viewer: Principal | null,
    query: ProductListQuery,
    pick: PagePicker,
    count?: 'exact' | 'estimate' | 'none',
  ): Promise<DiscoveryPage> {
    const ordering = this.ordering(query);
    const scope = `products:${ordering}`;
    const fuzzyScope = `${scope}:fuzzy`;
    const { page, scope: cursorScope } = pick([scope, fuzzyScope]);
    const filters = this.filters(query, this.visibility(viewer, query.status));
    if (cursorScope !== null && filters.search !== undefined) filters.fuzzy = cursorScope === fuzzyScope;
    const list = await this.list(em, filters, ordering, page, count);
    return { ...list, ordering, scope: list.fuzzy ? fuzzyScope : scope };
  }

  /**
   * One page of products for the storefront or a back office, with an optional count. A search
   * whose first page finds nothing by full text is retried by trigram similarity on names (typos);
   * later pages keep the mode their cursor was issued for (`filters.fuzzy`).
   */
  async list(em: EntityManager, filters: DiscoveryFilters, ordering: ProductOrdering, page: PageRequest, count?: 'exact' | 'estimate' | 'none'): Promise<ProductList> {
    const countMode = count ?? (page.kind === 'page' ? 'estimate' : 'none');
    const run = async (f: DiscoveryFilters) => {
      const built = productListQuery(f, ordering, page);
      const [rows, counted] = await Promise.all([
        executePrepared<ProductRow>(em, built.sql, built.params, this.options.preparedStatements && built.stablePlan === true),
        countMode === 'none' ? undefined : this.count(em, f, countMode),
      ]);
      return { rows, counted, reversed: built.reversed };
    };
    let fuzzy = filters.fuzzy ?? false;
    let result = await run({ ...filters, fuzzy });
    const firstPage = page.kind === 'page' ? page.page === 1 : page.after === undefined && page.before === undefined;
    if (filters.search !== undefined && filters.fuzzy === undefined && firstPage && result.rows.length === 0) {
      fuzzy = true;
      result = await run({ ...filters, fuzzy });
    }
    const key = (r: ProductRow): KeyValues => [sortKeyOf(r, ordering), r.id];
    const list: ProductList = { slice: toSlice(result.rows, page, key, result.reversed), fuzzy };
    if (result.counted !== undefined) {
      list.count = result.counted;
      list.countIsEstimate = countMode === 'estimate';
    }
    return list;
  }

  private async count(em: EntityManager, filters: DiscoveryFilters, mode: 'exact' | 'estimate'): Promise<number> {
    const q = productCountQuery(filters, mode);
    const rows = await em.execute<Record<string, unknown>[]>(q.sql, q.params);
    if (mode === 'exact') return Number(rows[0].count);
    const plan = (rows[0]['QUERY PLAN'] as { Plan: { 'Plan Rows': number } }[])[0].Plan;
    return Math.round(plan['Plan Rows']);
  }

  /** Disjunctive facet counts over active products, cached briefly (they summarise the whole catalog). */
  facets(em: EntityManager, filters: DiscoveryFilters): Promise<Facets> {
    return this.facetCache.getOrCompute(JSON.stringify(filters), async () => {
      const facets = await this.computeFacets(em, filters);
      // Like the list: a search that finds nothing by full text counts trigram matches on names.
      if (filters.search !== undefined && !filters.fuzzy && facets.total === 0) return this.computeFacets(em, { ...filters, fuzzy: true });
      return facets;
    });
  }

  private async computeFacets(em: EntityManager, filters: DiscoveryFilters): Promise<Facets> {
    const q = facetQueries(filters);
    const run = <T>(b: { sql: string; params: unknown[] }) => em.execute<T[]>(b.sql, b.params);
    const [total, brands, categoryCounts, availability, prices, tree] = await Promise.all([
      run<{ count: number }>(q.total),
      run<{ brand: string; count: number }>(q.brands),
      run<{ category_id: number; count: number }>(q.categories),
      run<{ in_stock: boolean; count: number }>(q.availability),
      run<{ bucket: number; count: number }>(q.price),
      em.execute<{ id: number; parent_id: number | null; name: string; slug: string }[]>(
        'select id, parent_id, name, slug from categories where is_active order by name, id',
      ),
    ]);
    return {
      total: Number(total[0].count),
      brands: brands.map((b) => ({ value: b.brand, count: Number(b.count) })),
      categories: this.rollUp(tree, categoryCounts, filters.category),
      availability: {
        in_stock: Number(availability.find((a) => a.in_stock)?.count ?? 0),
        out_of_stock: Number(availability.find((a) => !a.in_stock)?.count ?? 0),
      },
      price: PRICE_BUCKETS.map((min, i) => ({
        min,
        max: PRICE_BUCKETS[i + 1] ?? null,
        count: Number(prices.find((p) => Number(p.bucket) === i + 1)?.count ?? 0),
      })),
    };
  }

  /** Counts per child of the filtered category (or per top-level category), each over its whole subtree. */
  private rollUp(
    tree: { id: number; parent_id: number | null; name: string; slug: string }[],
    counts: { category_id: number; count: number }[],
    selected: number | string | undefined,
  ): Facets['categories'] {
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
      if (node && totals.has(node.id)) totals.set(node.id, totals.get(node.id)! + Number(count));
    }
    return children.map((c) => ({ id: c.id, name: c.name, slug: c.slug, count: totals.get(c.id)! })).filter((c) => c.count > 0);
  }

  /** A product as the caller may see it: inactive products and variants only for their vendor and admins. */
  async get(em: EntityManager, viewer: Principal | null, id: number): Promise<ProductDetail> {
    // A primary-key lookup: the same plan for every id, so it is prepared like the list queries.
    const [row] = await executePrepared<ProductDetail>(em, DETAIL_ONE, [id], this.options.preparedStatements);
    const visible = row && this.asSeenBy(viewer, row);
    if (!visible) throw CatalogErrors.productNotFound();
    return visible;
  }

  /** A product by slug, as `get` shows it. */
  async getBySlug(em: EntityManager, viewer: Principal | null, slug: string): Promise<ProductDetail> {
    const [row] = await executePrepared<ProductDetail>(em, DETAIL_BY_SLUG, [slug], this.options.preparedStatements);
    const visible = row && this.asSeenBy(viewer, row);
    if (!visible) throw CatalogErrors.productNotFound();
    return visible;
  }

  /** Several products as `get` shows each of them, in one statement; those the caller may not see are left out. */
  async getMany(em: EntityManager, viewer: Principal | null, ids: readonly number[]): Promise<Map<number, ProductDetail>> {
    const rows = ids.length ? await em.execute<ProductDetail[]>(DETAIL_MANY, [`{${ids.join(',')}}`]) : [];
    const found = new Map<number, ProductDetail>();
    for (const row of rows) {
      const visible = this.asSeenBy(viewer, row);
      if (visible) found.set(row.id, visible);
    }
    return found;
  }

  /** Inactive products and variants only for their vendor and admins; undefined when the product is hidden. */
  private asSeenBy(viewer: Principal | null, row: ProductDetail): ProductDetail | undefined {
    const privileged = this.mayManage(viewer, row.vendor_id);
    if (!row.is_active && !privileged) return undefined;
    if (!privileged) row.variants = row.variants.filter((v) => v.isActive);
    return row;
  }

  async create(em: EntityManager, actor: Principal, input: ProductCreate): Promise<ProductDetail> {
    const vendorId = await this.vendorFor(em, actor, input.vendor);
    const categoryId = await this.categories.existing(em, input.category);
    const variants: VariantFields[] = input.variants ?? [
      { sku: input.sku, price: input.price ?? this.missingPrice(), stock: input.stock ?? 0 },
    ];
    this.assertDistinctSkus(variants.map((v) => v.sku));
    const product = new Product(
      em.getReference(User, vendorId, { wrapped: true }),
      em.getReference(Category, categoryId, { wrapped: true }),
      input.name.trim(),
      input.slug ?? (await this.freeSlug(em, input.name)),
      input.sku,
    );
    product.description = input.description ?? '';
    product.brand = input.brand?.trim() ?? '';
    product.images = input.images ?? [];
    if (input.is_active !== undefined) product.isActive = input.is_active;
    em.persist(product);
    for (const v of variants) em.persist(this.buildVariant(product, v));
    await this.flushCatalog(em, product.slug);
    return this.reload(em, product);
  }

  async update(em: EntityManager, actor: Principal, id: number, patch: ProductUpdate): Promise<ProductDetail> {
    const product = await em.transactional(async (tx) => {
      // Locks the product first: stock changes elsewhere (checkout) lock products before variants too.
      const product = await this.loadForWrite(tx, actor, id, true);
      if (patch.price !== undefined || patch.stock !== undefined) {
        const variants = await tx.find(ProductVariant, { product: id });
        if (variants.length !== 1) throw CatalogErrors.productHasVariants();
        if (patch.price !== undefined) variants[0].price = normalizeMoney(patch.price);
        if (patch.stock !== undefined) variants[0].stock = patch.stock;
      }
      if (patch.category !== undefined) product.category = tx.getReference(Category, await this.categories.existing(tx, patch.category), { wrapped: true });
      if (patch.name !== undefined) product.name = patch.name.trim();
      if (patch.slug !== undefined) product.slug = patch.slug;
      if (patch.description !== undefined) product.description = patch.description;
      if (patch.brand !== undefined) product.brand = patch.brand.trim();
      if (patch.images !== undefined) product.images = patch.images;
      if (patch.is_active !== undefined) product.isActive = patch.is_active;
      await this.flushCatalog(tx, product.slug);
      return product;
    });
    return this.reload(em, product);
  }

  /** Deletes the product and its variants, or deactivates it when orders refer to it. */
  async delete(em: EntityManager, actor: Principal, id: number): Promise<void> {
    await this.loadForWrite(em, actor, id);
    await deleteOrDeactivate(em, Product, id);
  }

  async listVariants(em: EntityManager, viewer: Principal | null, query: VariantListQuery, page: PageRequest): Promise<Slice<ProductVariant>> {
    const where: FilterQuery<ProductVariant>[] = [];
    if (query.product !== undefined) where.push({ product: query.product });
    if (query.in_stock !== undefined) where.push(query.in_stock ? { stock: { $gt: 0 }, isActive: true } : { $or: [{ stock: 0 }, { isActive: false }] });
    const visible = { isActive: true, product: { isActive: true } };
    if (viewer?.role === 'vendor') where.push({ $or: [visible, { product: { vendor: viewer.id } }] });
    else if (viewer?.role !== 'admin') where.push(visible);
    return findSlice(em, ProductVariant, { $and: where }, { property: 'id', column: 'id', descending: false, key: (v) => v.id }, page);
  }

  async getVariant(em: EntityManager, viewer: Principal | null, id: number): Promise<ProductVariant> {
    const variant = await em.findOne(ProductVariant, id, { populate: ['product'] });
    if (!variant) throw CatalogErrors.variantNotFound();
    const product = variant.product.getEntity();
    if (!this.mayManage(viewer, product.vendor.id) && !(variant.isActive && product.isActive)) throw CatalogErrors.variantNotFound();
    return variant;
  }

  async createVariant(em: EntityManager, actor: Principal, input: VariantFields & { product: number }): Promise<ProductVariant> {
    const product = await em.findOne(Product, input.product);
    if (!product) throw CatalogErrors.unknownProduct(input.product);
    this.assertMayManage(actor, product, () => CatalogErrors.unknownProduct(input.product));
    const variant = this.buildVariant(product, input);
    em.persist(variant);
    await this.flushCatalog(em);
    return variant;
  }

  async updateVariant(em: EntityManager, actor: Principal, id: number, patch: VariantUpdate): Promise<ProductVariant> {
    return em.transactional(async (tx) => {
      const variant = await this.variantForWrite(tx, actor, id);
      // Product before variant, the lock order every stock change follows.
      await tx.findOne(Product, variant.product.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (patch.sku !== undefined) variant.sku = patch.sku;
      if (patch.name !== undefined) variant.name = patch.name;
      if (patch.attributes !== undefined) variant.attributes = patch.attributes;
      if (patch.price !== undefined) variant.price = normalizeMoney(patch.price);
      if (patch.stock !== undefined) variant.stock = patch.stock;
      if (patch.is_active !== undefined) variant.isActive = patch.is_active;
      await this.flushCatalog(tx);
      return variant;
    });
  }

  /** Deletes a variant (a product keeps at least one), or deactivates it when orders refer to it. */
  async deleteVariant(em: EntityManager, actor: Principal, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      const variant = await this.variantForWrite(tx, actor, id);
      // Lock the product so two deletions cannot remove its last two variants at once.
      await tx.findOne(Product, variant.product.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if ((await tx.count(ProductVariant, { product: variant.product.id })) <= 1) throw CatalogErrors.lastVariant();
      await deleteOrDeactivate(tx, ProductVariant, id);
    });
  }

  private async variantForWrite(em: EntityManager, actor: Principal, id: number): Promise<ProductVariant> {
    const variant = await em.findOne(ProductVariant, id, { populate: ['product'] });
    if (!variant) throw CatalogErrors.variantNotFound();
    this.assertMayManage(actor, variant.product.getEntity(), () => CatalogErrors.variantNotFound());
    return variant;
  }

  /** A product the actor may change: another vendor's answers 403 if the public can see it, else 404. */
  private async loadForWrite(em: EntityManager, actor: Principal, id: number, lock = false): Promise<Product> {
    const product = await em.findOne(Product, id, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
    if (!product) throw CatalogErrors.productNotFound();
    this.assertMayManage(actor, product, () => CatalogErrors.productNotFound());
    return product;
  }

  /** Admins, and the vendor who sells the product. */
  private mayManage(viewer: Principal | null, vendorId: number): boolean {
    return viewer?.role === 'admin' || (viewer?.role === 'vendor' && vendorId === viewer.id);
  }

  private assertMayManage(actor: Principal, product: Product, invisible: () => DomainError): void {
    if (this.mayManage(actor, product.vendor.id)) return;
    throw product.isActive ? CatalogErrors.notOwner() : invisible();
  }

  private async vendorFor(em: EntityManager, actor: Principal, requested: number | undefined): Promise<number> {
    if (requested === undefined || requested === actor.id) return actor.id;
    if (actor.role !== 'admin') throw CatalogErrors.vendorMismatch();
    const vendor = await em.findOne(User, { id: requested, isActive: true, role: { $in: ['vendor', 'admin'] } });
    if (!vendor) throw CatalogErrors.unknownVendor(requested);
    return vendor.id;
  }

  private buildVariant(product: Product, input: VariantFields): ProductVariant {
    const variant = new ProductVariant(ref(product), input.sku, normalizeMoney(input.price));
    variant.name = input.name ?? '';
    variant.attributes = input.attributes ?? {};
    variant.stock = input.stock ?? 0;
    if (input.is_active !== undefined) variant.isActive = input.is_active;
    return variant;
  }

  private missingPrice(): never {
    throw CatalogErrors.priceRequired();
  }

  private assertDistinctSkus(skus: string[]): void {
    const seen = new Set<string>();
    for (const sku of skus) {
      if (seen.has(sku)) throw CatalogErrors.skuTaken(sku);
      seen.add(sku);
    }
  }

  /** Reads the product back after a write, as its vendor sees it: the database derived its price range and stock. */
  private async reload(em: EntityManager, product: Product): Promise<ProductDetail> {
    const [row] = await em.execute<ProductDetail[]>(DETAIL_ONE, [product.id]);
    return row;
  }

  private async freeSlug(em: EntityManager, name: string): Promise<string> {
    const slug = slugify(name);
    return (await em.count(Product, { slug })) ? suffixed(slug) : slug;
  }

  private async flushCatalog(em: EntityManager, slug?: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        if (constraintOf(err).includes('slug') && slug) throw CatalogErrors.slugTaken(slug);
        throw CatalogErrors.skuTaken();
      }
      throw err;
    }
  }
}
