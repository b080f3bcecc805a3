import { LockMode } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { deleteOrDeactivate } from '../../db/history';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { toIso } from '../../shared/time';
import { SELLABLE_VARIANT } from './access';
import type { ProductEvent } from './catalog.events';
import { ProductVariant } from './product-variant.entity';
import { Product } from './product.entity';

export interface VariantFilter {
  product?: number;
  /** true: active with stock; false: out of stock or inactive. */
  inStock?: boolean;
}

/** The queries behind product and variant writes (the read model has its own: discovery.repository.ts). */
export class ProductsRepository {
  /** The product, locked for update when asked (products are locked before their variants). */
  product(em: EntityManager, id: number, options: { lock?: boolean } = {}): Promise<Product | null> {
    return em.findOne(Product, id, options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
  }

  async lockProduct(em: EntityManager, id: number): Promise<void> {
    await em.findOne(Product, id, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /** The variant with its product. */
  variant(em: EntityManager, id: number): Promise<ProductVariant | null> {
    return em.findOne(ProductVariant, id, { populate: ['product'] });
  }

  variantsOf(em: EntityManager, productId: number): Promise<ProductVariant[]> {
    return em.find(ProductVariant, { product: productId });
  }

  countVariants(em: EntityManager, productId: number): Promise<number> {
    return em.count(ProductVariant, { product: productId });
  }

  /**
   * Variants by id, those `viewer` may see: sellable ones (a variant and its product active) for
   * everyone, a vendor's own in any state, all of them for admins.
   */
  listVariants(em: EntityManager, viewer: Principal | null, filter: VariantFilter, pick: PagePicker): Promise<Listing<ProductVariant>> {
    const where: FilterQuery<ProductVariant>[] = [];
    if (filter.product !== undefined) where.push({ product: filter.product });
    if (filter.inStock !== undefined) where.push(filter.inStock ? { stock: { $gt: 0 }, isActive: true } : { $or: [{ stock: 0 }, { isActive: false }] });
    if (viewer?.role === 'vendor') where.push({ $or: [SELLABLE_VARIANT, { product: { vendor: viewer.id } }] });
    else if (viewer?.role !== 'admin') where.push(SELLABLE_VARIANT);
    return findListing(em, ProductVariant, { $and: where }, { property: 'id', column: 'id', descending: false, key: (v) => v.id }, 'variants:id', pick);
  }

  deleteOrDeactivateProduct(em: EntityManager, id: number): Promise<void> {
    return deleteOrDeactivate(em, Product, id);
  }

  deleteOrDeactivateVariant(em: EntityManager, id: number): Promise<void> {
    return deleteOrDeactivate(em, ProductVariant, id);
  }

  /** The product as its events carry it, read in the caller's transaction (after the triggers derived its price and stock). */
  async snapshot(em: EntityManager, id: number): Promise<ProductEvent | null> {
    return (await this.snapshots(em, [id]))[0] ?? null;
  }

  /** Products as their events carry them, in id order, read in the caller's transaction (a catalog import's batch). */
  async snapshots(em: EntityManager, ids: readonly number[]): Promise<ProductEvent[]> {
    if (!ids.length) return [];
    const rows = await em.execute<Record<string, unknown>[]>(
      `select id, name, slug, sku, price::text as price, is_active, category_id, vendor_id, stock, created_at, updated_at
         from products where id = any(?::int[]) order by id`,
      [`{${ids.join(',')}}`],
    );
    return rows.map((row) => ({
      productId: row.id as number,
      name: row.name as string,
      slug: row.slug as string,
      sku: row.sku as string,
      price: row.price as string,
      isActive: row.is_active as boolean,
      categoryId: row.category_id as number,
      vendorId: row.vendor_id as number,
      stock: row.stock as number,
      createdAt: new Date(toIso(row.created_at as Date | string)),
      updatedAt: new Date(toIso(row.updated_at as Date | string)),
    }));
  }

  /** Records a product's rating aggregates (average to two decimals, number of ratings). */
  async setRating(em: EntityManager, productId: number, average: string, count: number): Promise<void> {
    // Not a change of the product itself: its updated_at stays.
    await em.execute('update products set rating_avg = ?, rating_count = ? where id = ?', [average, count, productId]);
  }
}
