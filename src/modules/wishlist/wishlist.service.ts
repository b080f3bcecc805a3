import type { EntityManager } from '@mikro-orm/postgresql';
import { toIso } from '../../shared/time';
import type { Listing, PagePicker } from '../../shared/paging';
import type { Principal } from '../../shared/principal';
import { CatalogErrors, type CatalogReader, LISTED_PRODUCT_IDS, type ProductRow } from '../catalog';
import { WishlistErrors } from './wishlist.errors';
import type { WishlistRepository } from './wishlist.repository';

/** A saved product: the catalog's list row, with when it was saved. */
export interface WishlistEntry {
  itemId: number;
  addedAt: string | Date;
  product: ProductRow;
}

const SCOPE = 'wishlist:-added';

/** Products a user saved for later. */
export class WishlistService {
  constructor(
    private readonly wishlists: WishlistRepository,
    private readonly catalog: CatalogReader,
  ) {}

  /** The user's saved products that are still listed, newest first. */
  async list(em: EntityManager, owner: Principal, pick: PagePicker): Promise<Listing<WishlistEntry>> {
    const { page } = pick([SCOPE]);
    const items = await this.wishlists.page(em, owner.id, LISTED_PRODUCT_IDS, page);
    const rows = await this.catalog.listRows(em, items.items.map((i) => i.productId));
    const entries = items.items.flatMap((i): WishlistEntry[] => {
      const product = rows.get(i.productId);
      return product ? [{ itemId: i.id, addedAt: i.addedAt, product }] : [];
    });
    return { slice: { ...items, items: entries }, scope: SCOPE, keyOf: (e) => [toIso(e.addedAt), e.itemId] };
  }

  /** Saves a listed product; saving it again keeps the one item. Returns the item and whether it is new. */
  async add(em: EntityManager, owner: Principal, productId: number): Promise<{ entry: WishlistEntry; created: boolean }> {
    if (!(await this.catalog.isListed(em, productId))) throw CatalogErrors.unknownProduct(productId);
    const created = await this.wishlists.save(em, owner.id, productId);
    const [item, rows] = await Promise.all([this.wishlists.item(em, owner.id, productId), this.catalog.listRows(em, [productId])]);
    const product = rows.get(productId);
    if (!item || !product) throw CatalogErrors.unknownProduct(productId);
    return { entry: { itemId: item.id, addedAt: item.addedAt, product }, created };
  }

  /** Removes one of the owner's items; anyone else's answers 404. */
  async remove(em: EntityManager, owner: Principal, itemId: number): Promise<void> {
    if (!(await this.wishlists.remove(em, owner.id, itemId))) throw WishlistErrors.itemNotFound();
  }
}
