import type { EntityManager } from '@mikro-orm/postgresql';
import { findListing } from '../../db/keyset';
import type { Listing, PagePicker } from '../../shared/paging';
import { ProductMedia } from './product-media.entity';

/** The cursor scope of a product's media list. */
export const MEDIA_LIST_SCOPE = 'product-media:position';

/** The first key of the media's advisory locks ('PM'); the second is the product id. */
const MEDIA_LOCK_CLASS = 0x504d;

/** The media context's queries (table `product_media`). */
export class MediaRepository {
  /** A product's media by position (product_media_product_position_idx). */
  list(em: EntityManager, productId: number, pick: PagePicker): Promise<Listing<ProductMedia>> {
    return findListing(em, ProductMedia, { product: productId }, { property: 'position', column: 'position', descending: false, key: (m) => m.position }, MEDIA_LIST_SCOPE, pick);
  }

  /** Every media of a product, by position (a handful: MEDIA_MAX_PER_PRODUCT is at most 20). */
  ofProduct(em: EntityManager, productId: number): Promise<ProductMedia[]> {
    return em.find(ProductMedia, { product: productId }, { orderBy: { position: 'asc', id: 'asc' } });
  }

  count(em: EntityManager, productId: number): Promise<number> {
    return em.count(ProductMedia, { product: productId });
  }

  /** One media (the resize job holds the product's media lock against a concurrent delete). */
  find(em: EntityManager, id: number): Promise<ProductMedia | null> {
    return em.findOne(ProductMedia, id);
  }

  /** The original's key of every media of a product, whatever its status (a plain read: no entities to manage). */
  async storageKeys(em: EntityManager, productId: number): Promise<string[]> {
    const rows = await em.execute<{ storage_key: string }[]>('select storage_key from product_media where product_id = ? order by id', [productId]);
    return rows.map((r) => r.storage_key);
  }

  /** The keys of a product's ready media, by position: what its `images` are made of. */
  async readyKeys(em: EntityManager, productId: number): Promise<string[]> {
    const rows = await em.find(ProductMedia, { product: productId, status: 'ready' }, { orderBy: { position: 'asc', id: 'asc' } });
    return rows.map((m) => m.storageKey);
  }

  /**
   * Serializes the changes of one product's media until the transaction ends (uploads counting
   * against the limit, renumbering, the images written to the product). An advisory lock of this
   * context's own, always taken first, so it never waits in a cycle with the catalog's row locks.
   */
  async lockProductMedia(em: EntityManager, productId: number): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(?, ?)', [MEDIA_LOCK_CLASS, productId]);
  }
}
